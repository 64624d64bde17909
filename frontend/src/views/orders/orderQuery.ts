/** The order list's filters as the form holds them, in the page URL, and as GET /api/v1/orders takes them. */
import type { LocationQuery } from 'vue-router'

import type { OrderFilter } from '@/api/orders'
import { shanghaiToIso } from '@/utils/time'

export interface FilterForm {
  state: string
  channel: string
  shop: string
  live_session_id: string
  anomaly: string
  paid: [string, string] | null // Shanghai wall-clock "YYYY-MM-DD HH:mm:ss"
  sku: string
  buyer_phone: string
  platform_order_id: string
}

export const emptyForm = (): FilterForm => ({
  state: '', channel: '', shop: '', live_session_id: '', anomaly: '', paid: null, sku: '', buyer_phone: '',
  platform_order_id: '',
})

const TEXT_KEYS = ['state', 'channel', 'shop', 'live_session_id', 'anomaly', 'sku', 'platform_order_id'] as const

/** The URL keeps every filter but the buyer's phone (no phone number in history or bookmarks). */
export function formToQuery(form: FilterForm): Record<string, string> {
  const query: Record<string, string> = {}
  for (const key of TEXT_KEYS) if (form[key].trim()) query[key] = form[key].trim()
  if (form.paid) {
    query.paid_from = form.paid[0]
    query.paid_to = form.paid[1]
  }
  return query
}

export function queryToForm(query: LocationQuery): FilterForm {
  const form = emptyForm()
  for (const key of TEXT_KEYS) {
    const value = query[key]
    if (typeof value === 'string') form[key] = value
  }
  if (typeof query.paid_from === 'string' && typeof query.paid_to === 'string') form.paid = [query.paid_from, query.paid_to]
  return form
}

export function formToFilter(form: FilterForm): OrderFilter {
  const filter: OrderFilter = {}
  if (form.state) filter.state = form.state
  if (form.channel) filter.channel = form.channel
  if (form.shop) filter.shop = form.shop
  if (/^\d+$/.test(form.live_session_id)) filter.live_session_id = Number(form.live_session_id)
  if (form.anomaly) filter.anomaly = form.anomaly
  if (form.paid) {
    filter.paid_from = shanghaiToIso(form.paid[0])
    filter.paid_to = shanghaiToIso(form.paid[1])
  }
  if (form.sku.trim()) filter.sku = form.sku.trim()
  if (form.buyer_phone.trim()) filter.buyer_phone = form.buyer_phone.trim()
  if (form.platform_order_id.trim()) filter.platform_order_id = form.platform_order_id.trim()
  return filter
}
