/** 库存: levels per SKU × warehouse, the ledger of one SKU, adjustments and safety stock
 * (src/baodan/inventory/api.py), and the CSV export (src/baodan/exports/api.py). */
import { buildUrl, http } from './http'

export interface StockLevel {
  sku_id: number
  warehouse_id: number
  on_hand: number
  reserved: number
  /** on_hand − reserved */
  available: number
  safety_stock: number
  updated_at: string
}

export interface StockRow extends StockLevel {
  sku_code: string
  sku_name: string
  warehouse_code: string
}

export type MoveKind = 'adjust' | 'receipt' | 'reserve' | 'release' | 'ship'

export interface StockMove {
  id: number
  sku_id: number
  warehouse_id: number
  kind: MoveKind | string
  on_hand_delta: number
  reserved_delta: number
  order_id: number | null
  reason: string | null
  actor: string | null
  created_at: string
}

export interface Adjustment {
  sku: string
  warehouse: string
  delta?: number
  set_to?: number
  kind: 'adjust' | 'receipt'
  reason?: string | null
}

export interface SafetyStockWrite { sku: string; warehouse: string; safety_stock: number }

export interface StockQuery {
  sku?: string
  warehouse?: string
  after_sku_id?: number
  after_warehouse_id?: number
  limit?: number
}

/** A random key for one adjustment: the same key sent twice changes stock once (the backend replays).
 * crypto.getRandomValues works on plain-http LAN addresses too, where crypto.randomUUID does not exist. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return `ui-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
}

export const stockApi = {
  levels: (query: StockQuery) => http.get<StockRow[]>('/stock', { query: { ...query } }),
  moves: (query: { sku: string; warehouse?: string; before_id?: number; limit?: number }) =>
    http.get<StockMove[]>('/stock/moves', { query: { ...query } }),
  /** The dialog explains inventory.below_reserved and inventory.unknown_level itself. */
  adjust: (body: Adjustment, idempotencyKey: string) =>
    http.post<StockLevel>('/stock/adjustments', body, {
      headers: { 'Idempotency-Key': idempotencyKey }, expect: ['inventory.below_reserved', 'inventory.unknown_level'],
    }),
  /** What the channels are not offered of a level (sellable = on hand − reserved − safety stock). */
  setSafetyStock: (body: SafetyStockWrite) => http.put<StockLevel>('/stock/safety-stock', body),
  /** Every level of the caller's warehouses as CSV (a plain link: the browser downloads it with the cookie). */
  exportUrl: buildUrl('/exports/stock'),
}
