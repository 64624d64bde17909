// Placeholder (建设中) until this screen is built: replace this file, keeping the path and the nav entry.
import { Box } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/stock',
    name: 'stock',
    component: () => import('@/views/UnderConstructionView.vue'),
    meta: { titleKey: 'nav.stock', permission: 'stock.read', icon: Box, navOrder: 30 },
  },
] satisfies ConsoleRoutes
