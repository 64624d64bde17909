export default {
  tabs: { skus: 'SKUs', products: 'Products', mappings: 'Platform SKU mapping' },
  required: 'Required',
  codeRule: 'Starts with a letter or digit; letters, digits, dot, dash, underscore',
  created: 'Created',
  saved: 'Saved',
  product: { code: 'Product code', name: 'Product name', createdAt: 'Created', create: 'Add product', empty: 'No products' },
  sku: {
    code: 'SKU code (merchant code)', shortCode: 'SKU code', name: 'Name', product: 'Product', barcode: 'Barcode',
    price: 'Price', priceYuan: 'Price (yuan)', priceRule: 'An amount like 12 or 12.50', weight: 'Weight (g)', type: 'Type',
    single: 'Single', bundle: 'Bundle', components: 'Components', component: 'Component SKU', qty: 'Qty',
    addComponent: 'Add component', bundleNeedsParts: 'A bundle needs at least one component', status: 'Status',
    active: 'Active', inactive: 'Inactive', stock: 'Stock', create: 'Add SKU', filter: 'Find by SKU code', empty: 'No SKUs',
  },
  mapping: {
    shop: 'Shop', platformSkuId: 'Platform SKU ID', sku: 'SKU', platformProductId: 'Platform product ID',
    platformProductIdHint: 'Some platforms need it to push stock (optional)', add: 'Add mapping', edit: 'Change',
    map: 'Map', title: 'Platform SKU mapping', unmappedTitle: '{n} platform SKUs not mapped',
    unmappedHint: 'Orders with these platform SKUs are flagged "unknown SKU". Once mapped, orders received afterwards are recognised and reserve stock; orders already flagged are not re-read.',
    noUnmapped: 'No platform SKUs waiting to be mapped', orders: 'Orders', quantity: 'Units', titleSent: 'Platform title',
    codeSent: 'Merchant code sent', lastPaid: 'Last paid', filter: 'Filter by platform SKU ID or SKU code',
    empty: 'No mappings for this shop yet', shownFirst: 'Showing the first {n}', mapped: 'Mapped',
  },
}
