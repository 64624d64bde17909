import { http } from './http'

export interface Shop { id: number; code: string; name: string; channel: string; active: boolean }
export interface Warehouse { id: number; code: string; name: string; active: boolean }
export interface LiveSession {
  id: number; shop_id: number; title: string; host: string; started_at: string; ended_at: string | null
}

export const catalogApi = {
  shops: () => http.get<Shop[]>('/shops', { query: { limit: 500 }, quiet: true }),
  warehouses: () => http.get<Warehouse[]>('/warehouses', { query: { limit: 500 }, quiet: true }),
  liveSessions: () => http.get<LiveSession[]>('/live-sessions', { query: { limit: 500 }, quiet: true }),
}
