export default {
  detailTitle: '订单详情',
}
