/** Warehouse work (仓库作业): waves, pick lists, label and pick-list PDFs, scan-to-pack
 * (src/baodan/fulfilment/api.py; permission warehouse.operate). */
import { buildUrl, http, type Page } from './http'

export type WaveStatus = 'open' | 'picked' | 'done'

export interface Wave {
  id: number
  warehouse_id: number
  kind: 'single_sku' | 'mixed' | string
  sku_id: number | null
  zone: string | null
  status: WaveStatus | string
  orders: number
  units: number
  created_by?: string
  created_at: string
  picked_at: string | null
}

/** One row of a pick list: a SKU in one bin, with the wave's total of it. */
export interface PickLine {
  location: string
  zone: string
  sku_id: number
  sku_code: string
  name: string
  barcode: string | null
  qty: number
}

export interface WaveOrder {
  order_id: number
  pick_seq: number
  stage: string
  carrier_code: string | null
  waybill_no: string | null
  platform_order_id: string
}

export interface WaveDetail extends Wave {
  lines: PickLine[]
}

/** GET /waves/{id} answers the wave, its pick list (`lines`) and its orders in label order under `orders`,
 * which replaces the wave's count of the same name: split here into the wave and its orders. */
interface WaveAnswer extends Omit<Wave, 'orders'> {
  lines: PickLine[]
  orders: WaveOrder[]
}

export interface BuiltWave { id: number; kind: string; sku_id: number | null; zone: string | null; orders: number; units: number }

export interface ParcelItem {
  sku_id: number
  sku_code: string
  name: string
  barcode: string | null
  qty: number
  scanned: number
}

/** What a scanned waybill's parcel must hold and what is scanned so far (packing._parcel). */
export interface Parcel {
  order_id: number
  stage: string
  carrier_code: string | null
  waybill_no: string | null
  items: ParcelItem[]
  merged: number[]
  complete: boolean
  removed?: number[]
  notice?: string
}

export interface Shipped {
  order_id: number
  stage: 'shipped'
  shipment: Record<string, unknown>
  merged: number[]
}

export type LabelSize = '100x150' | '76x130'

/** Codes the scan-to-pack screen shows itself (red, with a beep) instead of a toast. */
export const PACK_ERRORS = ['pack.unknown_waybill', 'pack.intercepted', 'pack.wrong_stage', 'pack.wrong_item',
  'pack.too_many', 'pack.incomplete', 'pack.invalid_weight', 'pack.refused', 'request.invalid']

export const warehouseApi = {
  waves: (query: { status?: string; cursor?: string | null; limit?: number }) =>
    http.get<Page<Wave>>('/waves', { query }),
  async wave(id: number): Promise<{ wave: WaveDetail; orders: WaveOrder[] }> {
    const answer = await http.get<WaveAnswer>(`/waves/${id}`)
    const { orders, ...rest } = answer
    const wave = { ...rest, orders: orders.length } as WaveDetail
    return { wave, orders }
  },
  build: (warehouseId: number) => http.post<BuiltWave[]>('/waves', { warehouse_id: warehouseId }),
  /** A SKU's code and name (for single-SKU waves, which name only the SKU's id). */
  sku: (id: number) => http.get<{ id: number; code: string; name: string }>(`/skus/${id}`, { quiet: true }),
  /** An order's platform number (to name a parcel's orders); quiet: the parcel shows the id instead. */
  orderNo: (id: number) => http.get<{ id: number; platform_order_id: string }>(`/orders/${id}`, { quiet: true })
    .then((order) => order.platform_order_id),
  picked: (id: number) => http.post<Wave>(`/waves/${id}/picked`),
  labelsUrl: (id: number, size: LabelSize) => buildUrl(`/api/v1/waves/${id}/labels.pdf`, { size }),
  pickListUrl: (id: number) => buildUrl(`/api/v1/waves/${id}/pick-list.pdf`),

  scanWaybill: (code: string) => http.post<Parcel>('/pack/scan', { code }, { expect: PACK_ERRORS }),
  scanItem: (orderId: number, code: string) =>
    http.post<Parcel>(`/pack/${orderId}/items`, { code }, { expect: PACK_ERRORS }),
  confirm: (orderId: number, weightG: number | null) =>
    http.post<Shipped>(`/pack/${orderId}/confirm`, { weight_g: weightG }, { expect: PACK_ERRORS }),
}
