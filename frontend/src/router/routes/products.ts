// Placeholder (建设中) until this screen is built: replace this file, keeping the path and the nav entry.
import { Goods } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/products',
    name: 'products',
    component: () => import('@/views/UnderConstructionView.vue'),
    meta: { titleKey: 'nav.products', permission: 'catalog.read', icon: Goods, navOrder: 40 },
  },
] satisfies ConsoleRoutes
