import { List, Warning } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/orders',
    name: 'orders',
    component: () => import('@/views/orders/OrderListView.vue'),
    meta: { titleKey: 'nav.orders', permission: 'orders.read', icon: List, navOrder: 10 },
  },
  {
    path: '/orders/:id(\\d+)',
    name: 'order-detail',
    component: () => import('@/views/orders/OrderDetailView.vue'),
    props: true,
    meta: { titleKey: 'orders.detailTitle', permission: 'orders.read' },
  },
  {
    path: '/anomalies',
    name: 'anomalies',
    component: () => import('@/views/orders/AnomalyQueueView.vue'),
    meta: { titleKey: 'nav.anomalies', permission: 'orders.read', icon: Warning, navOrder: 20 },
  },
] satisfies ConsoleRoutes
