import { http } from './http'

export interface Me {
  kind: 'user' | 'api_key' | string
  name: string
  role: string
  permissions: string[]
  shop_ids: number[] | null
  warehouse_ids: number[] | null
  csrf_token: string | null
  must_change_password: boolean
}

export const authApi = {
  me: () => http.get<Me>('/auth/me', { quiet: true, expect: ['auth.required'] }),
  /** With `totp`, a refusal (auth.invalid_credentials) means the code: the password passed before. */
  login: (username: string, password: string, totp?: string) =>
    http.post<Me>('/auth/login', { username, password, ...(totp ? { totp } : {}) },
      { expect: totp ? ['auth.totp_required', 'auth.invalid_credentials'] : ['auth.totp_required'] }),
  logout: () => http.post<void>('/auth/logout'),
  changePassword: (current: string, next: string) =>
    http.post<void>('/auth/password', { current, new: next }, { expect: ['auth.password_change_required'] }),
}
