// Placeholder (建设中) until this screen is built: replace this file, keeping the path and the nav entry.
import { Setting } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/settings',
    name: 'settings',
    component: () => import('@/views/UnderConstructionView.vue'),
    meta: { titleKey: 'nav.settings', permission: 'catalog.read', icon: Setting, navOrder: 90 },
  },
] satisfies ConsoleRoutes
