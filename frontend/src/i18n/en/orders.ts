export default {
  detailTitle: 'Order',
  filters: {
    state: 'State', platformStatus: 'Platform status', channel: 'Channel', shop: 'Shop', liveSession: 'Live session',
    anomaly: 'Anomaly', anyAnomaly: 'Any anomaly', paidAt: 'Paid', paidFrom: 'From', paidTo: 'To',
    sku: 'SKU code', buyerPhone: 'Buyer phone', platformOrderId: 'Platform order no.', more: 'More filters', less: 'Fewer',
  },
  columns: {
    platformOrderId: 'Platform order no.', shop: 'Shop', channel: 'Channel', state: 'State', anomalies: 'Anomalies',
    paidTotal: 'Paid', paidAt: 'Paid at', receiver: 'Receiver', buyer: 'Buyer', liveSession: 'Live session',
    warehouse: 'Warehouse',
  },
  loaded: '{n} loaded',
  loadedMore: '{n} loaded; scroll down for more',
  selected: '{n} selected',
  clearSelection: 'Clear selection',
  bulk: { cancel: 'Cancel selected', export: 'Export filtered', cancelConfirm: 'Cancel the {n} selected orders? Their reserved stock is released.',
    cancelNote: 'Reason (optional)', done: '{ok} done, {failed} failed' },
  state: {
    unpaid: 'Unpaid', reserved: 'Reserved', awaiting_stock: 'Awaiting stock', held: 'Held', shipped: 'Shipped',
    completed: 'Completed', cancelled: 'Cancelled',
  },
  platformStatus: {
    unpaid: 'Unpaid', paid: 'Paid', shipped: 'Shipped', completed: 'Completed', cancelled: 'Cancelled', refunded: 'Refunded',
  },
  channel: {
    douyin: 'Douyin', kuaishou: 'Kuaishou', taobao: 'Taobao/Tmall', pdd: 'Pinduoduo', jd: 'JD', wechat: 'WeChat shop', custom: 'Own shop',
  },
  anomaly: {
    unknown_sku: 'Unknown SKU', amount_mismatch: 'Amount mismatch', missing_address: 'No address',
    shipped_without_stock: 'Shipped without stock', superseded: 'Split/merged', superseded_after_shipping: 'Shipped before split',
  },
  stage: {
    review: 'Review', held: 'Held', route: 'Routing', waybill: 'Awaiting waybill', number: 'Taking number', ready: 'Ready to pick',
    waved: 'In a wave', picked: 'Picked', packed: 'Packed', shipped: 'Shipped', cancelled: 'Cancelled', intercepted: 'Intercepted',
    presale: 'Presale',
  },
  detail: {
    summary: 'Summary', amounts: 'Amounts', goodsTotal: 'Goods', shippingFee: 'Shipping', discount: 'Discount', paidTotal: 'Paid',
    receiver: 'Receiver', reveal: 'Show', revealed: 'Shown in clear (this view is in the audit trail)', hide: 'Hide', region: 'Region',
    name: 'Name', phone: 'Phone', address: 'Address', lines: 'Lines', lineNo: '#', title: 'Item', sku: 'SKU',
    platformSku: 'Platform SKU', quantity: 'Qty', unitPrice: 'Unit price', lineDiscount: 'Discount', lineAmount: 'Amount',
    reservation: 'Stock held', reservedQty: 'Held', noReservation: 'No stock held', shortSkus: 'Short SKUs',
    fulfilment: 'Fulfilment', stage: 'Stage', holdReason: 'Held because', notInFulfilment: 'Not in fulfilment yet',
    shipments: 'Parcels', carrier: 'Carrier', waybill: 'Waybill', shippedAt: 'Shipped', writtenBack: 'Written back',
    notWrittenBack: 'Not yet', noShipments: 'Not shipped', timeline: 'Timeline', createdAt: 'Created', paidAt: 'Paid',
    reservedAt: 'Reserved', updatedAt: 'Updated', buyerNick: 'Buyer', liveSession: 'Live session', warehouse: 'Warehouse',
    openPage: 'Open as a page', platformUpdatedAt: 'Platform update',
  },
  event: {
    received: 'Platform push received', address_changed: 'Address changed', intercepted: 'Intercepted', shipped: 'Shipped',
    cancelled: 'Cancelled', reserved: 'Stock reserved', released: 'Stock released',
  },
  eventDetail: { status: 'Platform status', outcome: 'Outcome', by: 'By', stage: 'Stage' },
  decision: {
    review: 'Review', routing: 'Routing', carrier: 'Carrier', rule: 'Rule', version: 'Rule set version', manual: 'Manual',
  },
  outcome: { pass: 'Pass', hold: 'Hold', reserved: 'Reserved', awaiting_stock: 'Awaiting stock', held: 'Held' },
}
