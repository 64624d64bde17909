export default {
  tabs: { skus: 'SKU', products: '商品', mappings: '平台 SKU 映射' },
  required: '必填',
  codeRule: '字母或数字开头，只含字母、数字、点、横线、下划线',
  created: '已创建',
  saved: '已保存',
  product: { code: '商品编码', name: '商品名称', createdAt: '创建时间', create: '新增商品', empty: '暂无商品' },
  sku: {
    code: 'SKU 编码（商家编码）', shortCode: 'SKU 编码', name: '名称', product: '所属商品', barcode: '条码', price: '售价',
    priceYuan: '售价（元）', priceRule: '金额格式如 12 或 12.50', weight: '重量（克）', type: '类型', single: '单品',
    bundle: '组合装', components: '组合明细', component: '子 SKU', qty: '数量', addComponent: '添加子 SKU',
    bundleNeedsParts: '组合装至少要有一个子 SKU', status: '状态', active: '在售', inactive: '停用', stock: '库存',
    create: '新增 SKU', filter: '按 SKU 编码查询', empty: '暂无 SKU',
  },
  mapping: {
    shop: '店铺', platformSkuId: '平台 SKU ID', sku: '对应 SKU', platformProductId: '平台商品 ID',
    platformProductIdHint: '部分平台同步库存时需要（选填）', add: '添加映射', edit: '修改', map: '映射',
    title: '平台 SKU 映射', unmappedTitle: '{n} 个平台 SKU 尚未映射',
    unmappedHint: '含这些平台 SKU 的订单被标记为“未知 SKU”。映射后，此后收到的订单会按对应 SKU 识别并占用库存；已标记的订单不会自动重新识别。',
    noUnmapped: '没有待映射的平台 SKU', orders: '订单数', quantity: '件数', titleSent: '平台商品标题',
    codeSent: '平台传来的商家编码', lastPaid: '最近付款', filter: '按平台 SKU ID 或 SKU 编码筛选',
    empty: '该店铺还没有映射', shownFirst: '仅显示前 {n} 条', mapped: '已映射',
  },
}
