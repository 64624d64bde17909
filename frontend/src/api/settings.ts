/**
 * 店铺/设置: shops and their platform credentials (src/baodan/catalog/api.py, channels/api.py), warehouses,
 * users, roles and API keys (identity/admin_api.py), carrier accounts (waybills/api.py). Secrets are write-only: no
 * answer carries one, and a form leaves a blank secret out so the stored one is kept.
 */
import { http } from './http'

export interface ShopRow {
  id: number
  code: string
  name: string
  channel: string
  platform_shop_id: string | null
  default_warehouse_id: number | null
  fallback_warehouse_ids: number[]
  active: boolean
  created_at: string
}

export interface ShopCreate {
  code: string
  name: string
  channel: string
  platform_shop_id?: string | null
  default_warehouse?: string | null
  fallback_warehouses?: string[]
}

/** PATCH /shops/{id}: fields left out are kept (warehouses by code) */
export interface ShopUpdate {
  name?: string
  platform_shop_id?: string | null
  default_warehouse?: string | null
  fallback_warehouses?: string[]
  active?: boolean
}

export interface CredentialsRead {
  shop_id: number
  configured: boolean
  app_key: string | null
  platform_shop_id: string | null
  base_url: string | null
  calls_per_second: number | null
  updated_by: string | null
  updated_at: string | null
  token_expires_at: string | null
  refresh_expires_at: string | null
  generated_secret: string | null
}

export interface CredentialsWrite {
  app_key: string
  app_secret?: string
  platform_shop_id?: string | null
  base_url?: string | null
  access_token?: string
  refresh_token?: string
  calls_per_second?: number | null
  /** a secret left out keeps the stored one */
  keep_secrets?: boolean
}

export interface WarehouseRow { id: number; code: string; name: string; priority: number; active: boolean; created_at: string }
export interface WarehouseCreate { code: string; name: string; priority: number }
/** PATCH /warehouses/{id}: fields left out are kept */
export interface WarehouseUpdate { name?: string; priority?: number; active?: boolean }

export interface UserRow {
  id: number
  username: string
  display_name: string
  role: string
  active: boolean
  totp: boolean
  locked_until: string | null
  created_at: string | null
  /** null: every shop */
  shop_ids: number[] | null
  /** null: every warehouse */
  warehouse_ids: number[] | null
}
export interface UserCreate {
  username: string
  role: string
  display_name?: string | null
  shop_ids?: number[] | null
  warehouse_ids?: number[] | null
}
export interface UserUpdate {
  role?: string
  display_name?: string
  active?: boolean
  shop_ids?: number[] | null
  warehouse_ids?: number[] | null
}
export interface RoleRow { name: string; title: string; builtin: boolean; permissions: string[]; users: number }
export interface RoleWrite { title: string; permissions: string[] }

export interface ApiKeyRow {
  prefix: string
  name: string
  permissions: string[]
  /** null: every shop */
  shop_ids: number[] | null
  rate_per_minute: number
  created_by: string
  created_at: string
  revoked_at: string | null
  last_used_at: string | null
}
export interface ApiKeyCreate { name: string; permissions: string[]; shop_ids?: number[] | null; rate_per_minute?: number }
/** The key itself is in this answer only. */
export interface ApiKeyCreated { prefix: string; key: string }

export interface Sender {
  name: string
  phone: string
  province: string
  city: string
  district: string
  town?: string
  address: string
}
export interface CarrierAccountRow {
  id: number
  name: string
  adapter: 'cainiao' | 'kdniao' | 'pdd' | string
  carrier_code: string
  platform_code: string | null
  app_key: string
  base_url: string | null
  sender: Sender
  warehouse_id: number | null
  daily_capacity: number | null
  low_water: number
  refill_batch: number
  active: boolean
  last_error: string | null
  last_refill_at: string | null
  updated_by: string
  updated_at: string
  ready: number
  queued: number
  failing: number
  issued_today: number
}
export interface CarrierSecrets { app_secret: string; access_token?: string | null; extra?: Record<string, string> }
export interface CarrierAccountWrite {
  name: string
  adapter: string
  carrier_code: string
  platform_code?: string | null
  app_key: string
  base_url?: string | null
  sender: Sender
  warehouse_id?: number | null
  daily_capacity?: number | null
  low_water: number
  refill_batch: number
  active: boolean
  /** required to create; left out on an update: the stored secrets are kept */
  secrets?: CarrierSecrets
}

export const CHANNELS = ['douyin', 'kuaishou', 'taobao', 'pdd', 'jd', 'wechat', 'custom'] as const
export const CARRIER_ADAPTERS = ['cainiao', 'kdniao', 'pdd'] as const
export const CARRIERS = ['ZTO', 'YTO', 'STO', 'YUNDA', 'SF', 'JTSD', 'EMS', 'POSTB', 'JD', 'DBKD'] as const

const all = { limit: 500 }

export const settingsApi = {
  shops: () => http.get<ShopRow[]>('/shops', { query: all }),
  createShop: (body: ShopCreate) => http.post<ShopRow>('/shops', body),
  updateShop: (id: number, body: ShopUpdate) => http.patch<ShopRow>(`/shops/${id}`, body),
  credentials: (shopId: number) => http.get<CredentialsRead>(`/shops/${shopId}/credentials`),
  saveCredentials: (shopId: number, body: CredentialsWrite) =>
    http.put<CredentialsRead>(`/shops/${shopId}/credentials`, body),

  warehouses: () => http.get<WarehouseRow[]>('/warehouses', { query: all }),
  createWarehouse: (body: WarehouseCreate) => http.post<WarehouseRow>('/warehouses', body),
  updateWarehouse: (id: number, body: WarehouseUpdate) => http.patch<WarehouseRow>(`/warehouses/${id}`, body),

  users: () => http.get<UserRow[]>('/users'),
  createUser: (body: UserCreate) => http.post<UserRow & { one_time_password: string }>('/users', body),
  updateUser: (username: string, body: UserUpdate) =>
    http.patch<UserRow>(`/users/${encodeURIComponent(username)}`, body),
  resetPassword: (username: string) =>
    http.post<{ one_time_password: string }>(`/users/${encodeURIComponent(username)}/reset-password`),
  roles: () => http.get<RoleRow[]>('/roles'),
  permissions: () => http.get<Record<string, string>>('/permissions'),
  /** Creates the custom role `name` or replaces it. */
  saveRole: (name: string, body: RoleWrite) => http.put<RoleRow>(`/roles/${encodeURIComponent(name)}`, body),
  deleteRole: (name: string) => http.delete<void>(`/roles/${encodeURIComponent(name)}`),

  apiKeys: () => http.get<ApiKeyRow[]>('/api-keys'),
  createApiKey: (body: ApiKeyCreate) => http.post<ApiKeyCreated>('/api-keys', body),
  revokeApiKey: (prefix: string) => http.delete<void>(`/api-keys/${encodeURIComponent(prefix)}`),

  carrierAccounts: () => http.get<CarrierAccountRow[]>('/carrier-accounts'),
  createCarrierAccount: (body: CarrierAccountWrite) => http.post<CarrierAccountRow>('/carrier-accounts', body),
  updateCarrierAccount: (id: number, body: CarrierAccountWrite) =>
    http.put<CarrierAccountRow>(`/carrier-accounts/${id}`, body),
}
