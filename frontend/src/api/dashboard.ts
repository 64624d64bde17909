/** The live dashboard (数字大屏): a snapshot (GET /api/v1/dashboard) and the Server-Sent Events stream at
 * /events, whose `dashboard` events carry the same JSON (src/baodan/dashboard/schemas.py). Money in fen,
 * times UTC. */
import { buildUrl, http, type Query } from './http'

export interface DashboardView {
  kind: 'live_session' | 'today' | string
  live_session_id: number | null
  title?: string | null
  host?: string | null
  shop_id?: number | null
  started_at?: string | null
  ended_at?: string | null
  live?: boolean | null
  date?: string | null
  ends_at?: string | null
}

export interface Totals {
  orders: number
  gmv_fen: number
  units: number
  cancelled_orders: number
  cancelled_fen: number
  net_gmv_fen: number
}

export interface Minute { at: string; label: string; orders: number; gmv_fen: number }
export interface ChannelFigures { channel: string; orders: number; gmv_fen: number }
export interface ProvinceFigures { province: string; orders: number; gmv_fen: number }

export interface HotSku {
  sku_id: number
  sku_code: string | null
  name: string | null
  is_bundle: boolean
  units: number
  orders: number
  gmv_fen: number
  sellable: number | null
  sellable_by_shop: { shop_id: number; sellable: number }[]
}

export interface Anomaly { source: 'order' | 'fulfilment' | string; reason: string; orders: number }

export interface Dashboard {
  view: DashboardView
  window: { from: string; to: string }
  as_of: string
  timezone: string
  totals: Totals
  per_minute: Minute[]
  channels: ChannelFigures[]
  hot_skus: HotSku[]
  anomalies: { orders: number; by_reason: Anomaly[] }
  shipping: { orders: number; shipped: number; shipped_share: number; states: Record<string, number>;
    stages: Record<string, number> }
  provinces: ProvinceFigures[]
}

/** Which orders the screen adds up: the latest live session (nothing chosen), one session, or today. */
export interface DashboardSelection { liveSessionId?: number | null; today?: boolean }

export function dashboardQuery(selection: DashboardSelection, top = 10): Query {
  return {
    live_session_id: selection.today ? undefined : selection.liveSessionId ?? undefined,
    today: selection.today ? 'true' : undefined,
    top,
  }
}

export const dashboardApi = {
  snapshot: (selection: DashboardSelection, top = 10) =>
    http.get<Dashboard>('/dashboard', { query: dashboardQuery(selection, top), expect: ['dashboard.unknown_session'] }),
  /** The URL an EventSource opens (same origin: the session cookie signs it in). */
  eventsUrl: (selection: DashboardSelection, top = 10) => buildUrl('/events', dashboardQuery(selection, top)),
}
