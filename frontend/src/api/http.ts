/**
 * The one way the console talks to the backend: JSON over fetch to /api/v1, the session cookie
 * (same-origin), and the session's CSRF token repeated in X-CSRF-Token on unsafe methods (the backend's
 * scheme: src/baodan/identity/http.py). Error answers {code, message, details} become an ApiError, shown
 * as a toast (src/utils/toast.ts) unless the caller passes `quiet: true` or handles the code itself.
 */
import { hasTranslation, translate } from '@/i18n'

export const API_BASE = '/api/v1'

/** An error toast; the toast module loads with the first one, so it stays out of the entry chunk. */
export async function showError(text: string): Promise<void> {
  const { toast } = await import('@/utils/toast')
  toast.error(text)
}
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  query?: Query
  body?: unknown
  headers?: Record<string, string>
  /** Do not show the error; the caller handles it. */
  quiet?: boolean
  /** Error codes the caller handles itself (not shown, still thrown). */
  expect?: string[]
  signal?: AbortSignal
}

let csrfToken: string | null = null
/** Set by the auth store from the login / GET /auth/me answer. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

type AuthProblemHandler = (error: ApiError) => void
let onAuthProblem: AuthProblemHandler | null = null
/** Called for 401 auth.required and 403 auth.password_change_required (main.ts sends the user to login). */
export function setAuthProblemHandler(handler: AuthProblemHandler): void {
  onAuthProblem = handler
}

export function buildUrl(path: string, query?: Query): string {
  const url = path.startsWith('/api/') || path.startsWith('/events') ? path : `${API_BASE}${path}`
  if (!query) return url
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.append(key, String(value))
  }
  const text = params.toString()
  return text ? `${url}?${text}` : url
}

/** The translated text for an error code when the console has one, else the server's message. */
export function errorText(error: ApiError): string {
  const key = `errors.${error.code}`
  return hasTranslation(key) ? translate(key) : error.message
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  let body: BodyInit | undefined
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let response: Response
  try {
    response = await fetch(buildUrl(path, options.query), {
      method, headers, body, credentials: 'same-origin', signal: options.signal,
    })
  } catch (cause) {
    if ((cause as Error).name === 'AbortError') throw cause
    const error = new ApiError(0, 'network', translate('errors.network'))
    if (!options.quiet) void showError(error.message)
    throw error
  }
  if (response.ok) {
    if (response.status === 204) return undefined as T
    const type = response.headers.get('content-type') ?? ''
    return (type.includes('json') ? await response.json() : await response.text()) as T
  }
  throw await failure(response, options)
}

async function failure(response: Response, options: RequestOptions): Promise<ApiError> {
  let code = `http.${response.status}`
  let message = response.statusText || `HTTP ${response.status}`
  let details: unknown
  try {
    const payload = await response.json()
    if (payload && typeof payload.code === 'string') {
      code = payload.code
      message = payload.message ?? message
      details = payload.details
    }
  } catch {
    // not JSON (a proxy's error page): keep the status line
  }
  const error = new ApiError(response.status, code, message, details)
  const authProblem = (response.status === 401 && code === 'auth.required')
    || (response.status === 403 && code === 'auth.password_change_required')
  if (authProblem && onAuthProblem && !options.expect?.includes(code)) {
    onAuthProblem(error)
    return error
  }
  if (!options.quiet && !options.expect?.includes(code)) void showError(errorText(error))
  return error
}

export const http = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body?: unknown, options?: RequestOptions) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body?: unknown, options?: RequestOptions) =>
    request<T>('PATCH', path, { ...options, body }),
  delete: <T>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
}

/** One cursor page as every list endpoint answers it. */
export interface Page<T> {
  items: T[]
  next_cursor: string | null
}
