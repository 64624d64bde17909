/** Orders: the filtered list (cursor pages, newest first), one order with its history, reveal, export. */
import { buildUrl, http, type Page, type Query } from './http'

export interface MaskedReceiver {
  name?: string | null
  phone?: string | null
  province?: string | null
  city?: string | null
  district?: string | null
  town?: string | null
  address?: string | null
}

export interface Order {
  id: number
  channel: string
  shop_id: number
  platform_order_id: string
  platform_status: string
  platform_updated_at: string
  state: string
  anomalies: string[]
  short_sku_ids: number[]
  created_at: string
  paid_at: string | null
  buyer_nick: string | null
  receiver: MaskedReceiver | null
  goods_total_fen: number
  shipping_fee_fen: number
  discount_fen: number
  paid_total_fen: number
  live_room_id: string | null
  live_session_id: number | null
  warehouse_id: number | null
  reserved_at: string | null
  ingested_at: string
  updated_at: string
  /** a part of a split order (拆单): the original order's id */
  parent_order_id?: number | null
}

export interface OrderLine {
  id: number
  line_no: number
  platform_line_id: string | null
  platform_sku_id: string | null
  sku_code: string | null
  sku_id: number | null
  title: string | null
  quantity: number
  unit_price_fen: number
  discount_fen: number
  amount_fen: number
  /** 部分退款: refunded before shipping (the line is not shipped) */
  refunded_at?: string | null
}

/** Another order of the same platform order (拆单): the original or one of its parts. */
export interface SplitPart {
  id: number
  platform_order_id: string
  state: string
  warehouse_id: number | null
  paid_total_fen: number
}

export interface OrderDetail extends Order {
  lines: OrderLine[]
  reservations: { order_line_id: number; sku_id: number; warehouse_id: number; qty: number }[]
  events: { kind: string; at: string; detail: Record<string, unknown> }[]
  shipments: { id: number; carrier_code: string; waybill_no: string; shipped_at: string; written_back_at: string | null }[]
  decisions: {
    hook: string; rule_set_version: number; rule: string | null; rule_title: string | null
    outcome: string; reason: string | null; at: string
  }[]
  fulfilment: { stage: string; hold_reason: string | null } | null
  parts?: SplitPart[]
}

/** Whether the backend lets an operator split the order by hand (src/baodan/fulfilment/split.py): while it
 * waits for stock outside fulfilment, or is reserved and not yet past routing; with two lines at least. */
export function canSplit(order: OrderDetail): boolean {
  const stage = order.fulfilment?.stage
  const open = (order.state === 'awaiting_stock' && !order.fulfilment)
    || (order.state === 'reserved' && (!stage || SPLIT_STAGES.includes(stage)))
  return open && order.lines.filter((l) => !l.refunded_at).length >= 2
}

export const SPLIT_STAGES = ['review', 'held', 'route']

/** The filters GET /api/v1/orders (and the order export) take. Times are ISO 8601 with an offset. */
export interface OrderFilter {
  state?: string
  platform_status?: string
  channel?: string
  shop?: string
  live_session_id?: number
  anomaly?: string
  paid_from?: string
  paid_to?: string
  sku?: string
  buyer_phone?: string
  platform_order_id?: string
}

export interface RevealedReceiver { name: string | null; phone: string | null; address: string | null }

export const ORDER_STATES = ['unpaid', 'reserved', 'awaiting_stock', 'held', 'shipped', 'completed', 'cancelled']
export const PLATFORM_STATUSES = ['unpaid', 'paid', 'shipped', 'completed', 'cancelled', 'refunded']
export const CHANNELS = ['douyin', 'kuaishou', 'taobao', 'pdd', 'jd', 'wechat', 'custom']
export const ANOMALIES = ['unknown_sku', 'amount_mismatch', 'missing_address', 'shipped_without_stock']

export const ordersApi = {
  list: (filter: OrderFilter, cursor: string | null, limit = 200, signal?: AbortSignal) =>
    http.get<Page<Order>>('/orders', { query: { ...(filter as Query), cursor, limit }, signal }),
  get: (id: number) => http.get<OrderDetail>(`/orders/${id}`),
  reveal: (id: number) => http.post<RevealedReceiver>(`/orders/${id}/reveal`),
  /** The CSV export of the filtered list (a plain link: the browser downloads it with the session cookie). */
  exportUrl: (filter: OrderFilter) => buildUrl('/exports/orders', filter as Query),
}
