/** The anomaly queue (异常订单): held orders and what an operator does with them (src/baodan/fulfilment/api.py). */
import { buildUrl, http, type Page } from './http'
import type { MaskedReceiver } from './orders'

export interface HeldOrder {
  order_id: number
  channel: string
  shop_id: number
  platform_order_id: string
  hold_reason: string | null
  paid_at: string | null
  paid_total_fen: number
  receiver: MaskedReceiver | null
}

export interface StageRead { order_id: number; stage: string; hold_reason: string | null; version: number }
export interface AddressFix { province: string; city: string; district?: string | null; address: string }
export interface FulfilmentSummary { stages: Record<string, number>; held_reasons: Record<string, number> }

export interface SplitAnswer {
  /** the order first, then the new part */
  parts: { order_id: number; platform_order_id: string; state: string; warehouse_id: number | null }[]
}

export type SlipSize = '100x150' | '76x130' | 'a5'
export const SLIP_SIZES: SlipSize[] = ['100x150', '76x130', 'a5']

export const HOLD_REASONS = ['address_invalid', 'address_incomplete', 'address_missing', 'blacklisted',
  'suspected_duplicate', 'amount_over', 'quantity_over', 'remark_keyword', 'remote_region', 'waybill_failed']

export const fulfilmentApi = {
  summary: () => http.get<FulfilmentSummary>('/fulfilment/summary'),
  held: (query: { reason?: string; shop_id?: number; cursor?: string | null; limit?: number }) =>
    http.get<Page<HeldOrder>>('/fulfilment/held', { query }),
  release: (orderId: number, note?: string, quiet = false) =>
    http.post<StageRead>(`/fulfilment/${orderId}/release`, { note: note || null }, { quiet }),
  fixAddress: (orderId: number, address: AddressFix) => http.post<StageRead>(`/fulfilment/${orderId}/address`, address),
  cancel: (orderId: number, note?: string, quiet = false) =>
    http.post<StageRead>(`/fulfilment/${orderId}/cancel`, { note: note || null }, { quiet }),
  /** 拆单: the chosen lines become a new order (a part) */
  split: (orderId: number, lineIds: number[], note?: string) =>
    http.post<SplitAnswer>(`/fulfilment/${orderId}/split`, { line_ids: lineIds, note: note || null }),
  /** the parcel's packing slip (发货单), a PDF opened in a new tab */
  packingSlipUrl: (orderId: number, size: SlipSize) => buildUrl(`/api/v1/pack/${orderId}/packing-slip.pdf`, { size }),
}
