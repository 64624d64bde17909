// Placeholder (建设中) until this screen is built: replace this file, keeping the path and the nav entry.
import { DataLine } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('@/views/UnderConstructionView.vue'),
    meta: { titleKey: 'nav.dashboard', permission: 'orders.read', icon: DataLine, navOrder: 60 },
  },
] satisfies ConsoleRoutes
