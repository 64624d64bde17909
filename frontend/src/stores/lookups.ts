/** Names for ids the order screens show (shops, warehouses, live sessions), loaded once per sign-in. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { catalogApi, type LiveSession, type Shop, type Warehouse } from '@/api/catalog'

export const useLookupsStore = defineStore('lookups', () => {
  const shops = ref<Shop[]>([])
  const warehouses = ref<Warehouse[]>([])
  const liveSessions = ref<LiveSession[]>([])
  let loading: Promise<void> | null = null

  const shopById = computed(() => new Map(shops.value.map((s) => [s.id, s])))
  const warehouseById = computed(() => new Map(warehouses.value.map((w) => [w.id, w])))
  const sessionById = computed(() => new Map(liveSessions.value.map((s) => [s.id, s])))

  function load(): Promise<void> {
    loading ??= Promise.all([
      catalogApi.shops().then((rows) => { shops.value = rows }),
      catalogApi.warehouses().then((rows) => { warehouses.value = rows }),
      catalogApi.liveSessions().then((rows) => { liveSessions.value = rows }),
    ]).then(() => undefined).catch(() => { loading = null })
    return loading
  }

  const shopName = (id: number | null | undefined) => (id == null ? '—' : shopById.value.get(id)?.name ?? `#${id}`)
  const warehouseName = (id: number | null | undefined) =>
    (id == null ? '—' : warehouseById.value.get(id)?.name ?? `#${id}`)
  const sessionTitle = (id: number | null | undefined) =>
    (id == null ? '—' : sessionById.value.get(id)?.title ?? `#${id}`)

  return { shops, warehouses, liveSessions, load, shopName, warehouseName, sessionTitle }
})
