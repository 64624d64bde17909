// 商品: SKUs and bundles, products, platform SKU mappings per shop (src/views/products/).
import { Goods } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/products',
    name: 'products',
    component: () => import('@/views/products/ProductsView.vue'),
    meta: { titleKey: 'nav.products', permission: 'catalog.read', icon: Goods, navOrder: 40 },
  },
] satisfies ConsoleRoutes
