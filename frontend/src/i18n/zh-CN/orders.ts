export default {
  detailTitle: '订单详情',
  filters: {
    state: '订单状态', platformStatus: '平台状态', channel: '平台', shop: '店铺', liveSession: '直播场次',
    anomaly: '异常原因', anyAnomaly: '任意异常', paidAt: '付款时间', paidFrom: '开始时间', paidTo: '结束时间',
    sku: 'SKU 编码', buyerPhone: '买家手机号', platformOrderId: '平台订单号', more: '更多筛选', less: '收起',
  },
  columns: {
    platformOrderId: '平台订单号', shop: '店铺', channel: '平台', state: '状态', anomalies: '异常',
    paidTotal: '实付', paidAt: '付款时间', receiver: '收件人', buyer: '买家', liveSession: '直播场次',
    warehouse: '仓库',
  },
  loaded: '已加载 {n} 条',
  loadedMore: '已加载 {n} 条，向下滚动加载更多',
  selected: '已选 {n} 条',
  clearSelection: '清除选择',
  bulk: { cancel: '取消所选订单', export: '导出筛选结果', cancelConfirm: '确定取消所选的 {n} 个订单？已占用的库存将释放。',
    cancelNote: '取消原因（选填）', done: '成功 {ok} 个，失败 {failed} 个' },
  state: {
    unpaid: '待付款', reserved: '已占库存', awaiting_stock: '缺货', held: '异常挂起', shipped: '已发货',
    completed: '已完成', cancelled: '已取消',
  },
  platformStatus: {
    unpaid: '待付款', paid: '已付款', shipped: '已发货', completed: '已完成', cancelled: '已取消', refunded: '已退款',
  },
  channel: {
    douyin: '抖店', kuaishou: '快手小店', taobao: '淘宝/天猫', pdd: '拼多多', jd: '京东', wechat: '微信小店', custom: '自有商城',
  },
  anomaly: {
    unknown_sku: '未知 SKU', amount_mismatch: '金额不符', missing_address: '缺少地址',
    shipped_without_stock: '无库存已发货', superseded: '已被拆分/合并', superseded_after_shipping: '拆合单前已发货',
    cancelled_with_original: '随原订单取消',
  },
  stage: {
    review: '待审核', held: '异常挂起', route: '待分仓', waybill: '待取号', number: '取号中', ready: '待拣货',
    waved: '已进波次', picked: '已拣货', packed: '已打包', shipped: '已发货', cancelled: '已取消', intercepted: '已拦截',
    presale: '预售',
  },
  detail: {
    summary: '概况', amounts: '金额', goodsTotal: '商品金额', shippingFee: '运费', discount: '优惠', paidTotal: '实付金额',
    receiver: '收件人', reveal: '显示', revealed: '已显示明文（此次查看已记入审计日志）', hide: '隐藏', region: '地区',
    name: '姓名', phone: '手机号', address: '详细地址', lines: '商品明细', lineNo: '#', title: '商品', sku: 'SKU',
    platformSku: '平台 SKU', quantity: '数量', unitPrice: '单价', lineDiscount: '优惠', lineAmount: '小计',
    reservation: '库存占用', reservedQty: '占用数量', noReservation: '未占用库存', shortSkus: '缺货 SKU',
    fulfilment: '履约', stage: '履约阶段', holdReason: '挂起原因', notInFulfilment: '尚未进入履约',
    shipments: '包裹', carrier: '快递公司', waybill: '运单号', shippedAt: '发货时间', writtenBack: '回传平台',
    notWrittenBack: '未回传', noShipments: '尚未发货', timeline: '时间线', createdAt: '下单时间', paidAt: '付款时间',
    reservedAt: '占库存时间', updatedAt: '更新时间', buyerNick: '买家昵称', liveSession: '直播场次', warehouse: '发货仓',
    openPage: '在新页面打开', platformUpdatedAt: '平台更新时间', refunded: '已退款', packingSlip: '打印发货单',
    slipSize: { '100x150': '100×150 热敏纸', '76x130': '76×130 热敏纸', a5: 'A5 纸' },
  },
  split: {
    from: '拆分自', parts: '已拆出', family: '同一平台订单', original: '原订单',
    kind: { warehouse: '按仓库拆单', availability: '按库存拆单', by_hand: '人工拆单', refund: '部分退款拆出' },
    partOut: '拆出 {no}（{n} 个商品）', fromOrder: '自 {no} 拆出 {n} 个商品',
    refundedLines: '退款商品 {n} 个', refundedTo: '转入已取消的订单 {no}',
    whyLineRefunded: '原因：商品已退款', withOriginal: '随原订单 {no} 取消',
  },
  event: {
    received: '收到平台推送', address_changed: '修改地址', intercepted: '拦截', shipped: '发货', cancelled: '取消',
    reserved: '占用库存', released: '释放库存', split: '拆单', split_from: '由原订单拆出', line_refunded: '部分退款',
    superseded: '被拆分/合并取代', held: '挂起',
  },
  eventDetail: { status: '平台状态', outcome: '处理结果', by: '操作人', stage: '阶段', kind: '方式' },
  decision: {
    review: '审单', routing: '分仓', carrier: '选快递', split: '拆单', rule: '规则', version: '规则版本', manual: '人工',
  },
  outcome: {
    pass: '通过', hold: '挂起', reserved: '已占库存', awaiting_stock: '等待库存', held: '挂起', split: '拆单', wait: '暂不拆',
  },
}
