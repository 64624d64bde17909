// Placeholder (建设中) until this screen is built: replace this file, keeping the path and the nav entry.
import { Van } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/warehouse',
    name: 'warehouse',
    component: () => import('@/views/UnderConstructionView.vue'),
    meta: { titleKey: 'nav.warehouse', permission: 'warehouse.operate', icon: Van, navOrder: 50 },
  },
] satisfies ConsoleRoutes
