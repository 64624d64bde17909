// 数字大屏: full screen without the console frame (meta.layout 'blank'), for a TV or a phone; listed in the
// navigation like any page (router/index.ts lists 'blank' routes with a navOrder too).
import { DataLine } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('@/views/dashboard/DashboardView.vue'),
    meta: { titleKey: 'nav.dashboard', permission: 'dashboard.read', layout: 'blank', icon: DataLine, navOrder: 60 },
  },
] satisfies ConsoleRoutes
