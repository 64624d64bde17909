// Navigation titles: one key per route file (src/router/routes/*.ts); add yours in your own namespace
// file if you prefer (meta.titleKey may point anywhere).
export default {
  orders: '订单',
  anomalies: '异常订单',
  stock: '库存',
  products: '商品',
  warehouse: '仓库作业',
  settings: '店铺/设置',
  dashboard: '数字大屏',
}
