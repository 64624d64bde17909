// 仓库作业: fulfilment progress, waves and their pick lists / label PDFs, and scan-to-pack.
import { Van } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/warehouse',
    name: 'warehouse',
    component: () => import('@/views/warehouse/WarehouseView.vue'),
    meta: { titleKey: 'nav.warehouse', permission: 'warehouse.operate', icon: Van, navOrder: 50 },
  },
  {
    path: '/warehouse/waves/:id(\\d+)',
    name: 'warehouse-wave',
    component: () => import('@/views/warehouse/WaveDetailView.vue'),
    props: true,
    meta: { titleKey: 'warehouse.waves.title', permission: 'warehouse.operate' },
  },
  {
    path: '/warehouse/pack',
    name: 'warehouse-pack',
    component: () => import('@/views/warehouse/PackView.vue'),
    meta: { titleKey: 'warehouse.scan.title', permission: 'warehouse.operate' },
  },
] satisfies ConsoleRoutes
