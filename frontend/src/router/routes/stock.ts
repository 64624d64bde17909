// 库存: levels per SKU × warehouse, the ledger and adjustments (src/views/stock/).
import { Box } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/stock',
    name: 'stock',
    component: () => import('@/views/stock/StockView.vue'),
    meta: { titleKey: 'nav.stock', permission: 'stock.read', icon: Box, navOrder: 30 },
  },
] satisfies ConsoleRoutes
