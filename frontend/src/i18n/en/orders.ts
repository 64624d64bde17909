export default {
  detailTitle: 'Order',
}
