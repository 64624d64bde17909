/**
 * The dashboard's figures, live: GET /api/v1/dashboard once, then the /events stream (EventSource, signed in
 * by the session cookie), whose `dashboard` events carry the same JSON about every 2 s. The browser retries a
 * stream that dropped by itself (the server's `retry:`); one it gave up on (an error status, the server
 * gone) is reopened here with a growing wait, and so is a stream that went quiet (no event for WATCHDOG_MS,
 * e.g. a proxy holding a dead connection). An `end` event (signed out) or a refusal with no session sends
 * the screen to sign-in.
 */
import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import { useRouter } from 'vue-router'

import { dashboardApi, type Dashboard, type DashboardSelection } from '@/api/dashboard'
import { ApiError } from '@/api/http'
import { useAuthStore } from '@/stores/auth'

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'offline'

const WATCHDOG_MS = 12_000 // the server sends every BAODAN_DASHBOARD_INTERVAL_S (2 s): 6 missed events
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000]

export function useDashboardStream(selection: Ref<DashboardSelection>, onUnknownSession: () => void) {
  const auth = useAuthStore()
  const router = useRouter()
  const data = ref<Dashboard | null>(null)
  const status = ref<StreamStatus>('connecting')
  const receivedAt = ref(0)

  let source: EventSource | null = null
  let generation = 0 // events of a stream opened for an earlier selection are ignored
  let attempt = 0
  let retryTimer: number | undefined
  let watchdogTimer: number | undefined

  async function start(): Promise<void> {
    stop()
    const mine = ++generation
    status.value = 'connecting'
    try {
      const snapshot = await dashboardApi.snapshot(selection.value)
      if (mine !== generation) return
      accept(snapshot)
    } catch (error) {
      if (mine !== generation) return
      if (error instanceof ApiError && error.code === 'dashboard.unknown_session') {
        onUnknownSession()
        return
      }
      // the stream below says more (and retries)
    }
    open(mine)
  }

  function open(mine: number): void {
    closeSource()
    const es = new EventSource(dashboardApi.eventsUrl(selection.value))
    source = es
    es.addEventListener('dashboard', (event) => {
      if (mine !== generation) return
      try {
        accept(JSON.parse((event as MessageEvent<string>).data) as Dashboard)
      } catch {
        return // a torn event: the next one replaces it
      }
      status.value = 'live'
      attempt = 0
      armWatchdog(mine)
    })
    es.addEventListener('end', () => {
      if (mine !== generation) return
      stop()
      status.value = 'offline'
      void signInAgain()
    })
    es.onerror = () => {
      if (mine !== generation) return
      if (es.readyState === EventSource.CLOSED) {
        retry(mine) // the browser gave up (an error status or no server): reopen after a wait
      } else {
        status.value = 'reconnecting' // the browser retries by itself
      }
    }
    armWatchdog(mine)
  }

  function accept(payload: Dashboard): void {
    data.value = payload
    receivedAt.value = Date.now()
  }

  function retry(mine: number): void {
    closeSource()
    status.value = attempt >= 2 ? 'offline' : 'reconnecting'
    const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]
    attempt += 1
    window.clearTimeout(retryTimer)
    retryTimer = window.setTimeout(async () => {
      if (mine !== generation) return
      if (attempt >= 2 && !(await stillSignedIn())) return
      if (mine === generation) open(mine)
    }, wait)
  }

  function armWatchdog(mine: number): void {
    window.clearTimeout(watchdogTimer)
    watchdogTimer = window.setTimeout(() => {
      if (mine === generation) retry(mine)
    }, WATCHDOG_MS)
  }

  async function stillSignedIn(): Promise<boolean> {
    try {
      if (await auth.load(true)) return true
    } catch {
      return true // the server is unreachable, not a signed-out user: keep trying
    }
    await signInAgain()
    return false
  }

  async function signInAgain(): Promise<void> {
    stop()
    await router.push({ name: 'login', query: { redirect: router.currentRoute.value.fullPath } })
  }

  function closeSource(): void {
    source?.close()
    source = null
  }

  function stop(): void {
    generation += 1
    closeSource()
    window.clearTimeout(retryTimer)
    window.clearTimeout(watchdogTimer)
  }

  watch(selection, () => void start(), { deep: true })
  onBeforeUnmount(stop)

  return { data, status, receivedAt, start, stop }
}
