export default {
  orders: 'Orders',
  anomalies: 'Exceptions',
  stock: 'Stock',
  products: 'Products',
  warehouse: 'Warehouse',
  settings: 'Shops & settings',
  dashboard: 'Live dashboard',
}
