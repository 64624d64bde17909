/** 商品: products, SKUs and bundles (组合装), platform SKU mappings per shop (src/baodan/catalog/api.py), and
 * the platform SKU ids orders carried that no mapping covers yet (src/baodan/orders/api.py). */
import { http } from './http'

export interface ProductRow { id: number; code: string; name: string; created_at: string }
export interface ProductCreate { code: string; name: string }

export interface BundlePart { sku: string; qty: number }
export interface SkuRow {
  id: number
  code: string
  name: string
  product_id: number | null
  barcode: string | null
  is_bundle: boolean
  price_fen: number
  weight_g: number
  active: boolean
  components: BundlePart[]
}
export interface SkuCreate {
  code: string
  name: string
  product?: string | null
  barcode?: string | null
  price_fen: number
  weight_g: number
  /** non-empty for a bundle */
  components: BundlePart[]
}

/** PATCH /skus/{id}: fields left out are kept; a bundle's components cannot change */
export interface SkuUpdate {
  name?: string
  product?: string | null
  barcode?: string | null
  price_fen?: number
  weight_g?: number
  active?: boolean
}

export interface SkuMapping {
  shop_id: number
  platform_sku_id: string
  sku_id: number
  sku_code: string
  platform_product_id: string | null
}
export interface SkuMappingItem { platform_sku_id: string; sku: string; platform_product_id?: string | null }

export interface UnmappedSku {
  platform_sku_id: string
  /** orders flagged unknown_sku with a line of it */
  orders: number
  quantity: number
  title: string | null
  sku_code: string | null
  last_paid_at: string | null
}

export const MAPPINGS_SHOWN = 500

export const productsApi = {
  products: (query: { after?: number; limit?: number }) => http.get<ProductRow[]>('/products', { query }),
  createProduct: (body: ProductCreate) => http.post<ProductRow>('/products', body),
  skus: (query: { after?: number; limit?: number; code?: string }) => http.get<SkuRow[]>('/skus', { query }),
  /** One SKU with a bundle's components (the list leaves them out). */
  sku: (id: number) => http.get<SkuRow>(`/skus/${id}`, { quiet: true }),
  createSku: (body: SkuCreate) => http.post<SkuRow>('/skus', body),
  updateSku: (id: number, body: SkuUpdate) => http.patch<SkuRow>(`/skus/${id}`, body),
  mappings: (shopId: number) =>
    http.get<SkuMapping[]>(`/shops/${shopId}/sku-mappings`, { query: { limit: MAPPINGS_SHOWN } }),
  saveMappings: (shopId: number, items: SkuMappingItem[]) =>
    http.put<{ written: number }>(`/shops/${shopId}/sku-mappings`, items),
  unmapped: (shopId: number) => http.get<UnmappedSku[]>(`/shops/${shopId}/unmapped-skus`),
}

/** Every SKU, page after page (for pickers); stops at `max`. */
export async function allSkus(max = 5000): Promise<SkuRow[]> {
  const rows: SkuRow[] = []
  for (;;) {
    const page = await productsApi.skus({ after: rows.length ? rows[rows.length - 1].id : undefined, limit: 500 })
    rows.push(...page)
    if (page.length < 500 || rows.length >= max) return rows
  }
}
