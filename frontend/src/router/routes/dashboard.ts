// 数字大屏: full screen without the console frame (meta.layout 'blank'), for a TV or a phone.
import { DataLine } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('@/views/dashboard/DashboardView.vue'),
    meta: { titleKey: 'nav.dashboard', permission: 'dashboard.read', layout: 'blank' },
  },
  // The navigation lists console routes only (router/index.ts leaves 'blank' ones out), so the entry is a
  // console route that forwards to the screen.
  {
    path: '/dashboard/open',
    name: 'dashboard-nav',
    redirect: { name: 'dashboard' },
    meta: { titleKey: 'nav.dashboard', permission: 'dashboard.read', icon: DataLine, navOrder: 60 },
  },
] satisfies ConsoleRoutes
