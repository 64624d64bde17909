/** Who is signed in and what they may do (GET /api/v1/auth/me); permissions drive navigation and buttons. */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { authApi, type Me } from '@/api/auth'
import { ApiError, setCsrfToken } from '@/api/http'

export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)
  const checked = ref(false)

  const signedIn = computed(() => me.value !== null)
  const mustChangePassword = computed(() => me.value?.must_change_password ?? false)

  function set(answer: Me | null): void {
    me.value = answer
    checked.value = true
    setCsrfToken(answer?.csrf_token ?? null)
  }

  /** Ask the backend once per page load (again with `force`); null when nobody is signed in. */
  async function load(force = false): Promise<Me | null> {
    if (checked.value && !force) return me.value
    try {
      set(await authApi.me())
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) set(null)
      else throw error
    }
    return me.value
  }

  async function login(username: string, password: string, totp?: string): Promise<Me> {
    const answer = await authApi.login(username, password, totp)
    set(answer)
    return answer
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      set(null)
    }
  }

  async function changePassword(current: string, next: string): Promise<void> {
    await authApi.changePassword(current, next)
    await load(true)
  }

  /** May the caller do `permission`? null/undefined means any signed-in user. */
  function can(permission?: string | null): boolean {
    if (!permission) return signedIn.value
    return me.value?.permissions.includes(permission) ?? false
  }

  return { me, checked, signedIn, mustChangePassword, load, login, logout, changePassword, can }
})
