/** Times come from the API in UTC (ISO 8601); merchants read them in Asia/Shanghai, whatever the browser's zone. */
export const SHANGHAI = 'Asia/Shanghai'

const full = new Intl.DateTimeFormat('zh-CN', {
  timeZone: SHANGHAI, year: 'numeric', month: '2-digit', day: '2-digit',
  hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
})

/** "2026-11-26 14:03:05" in Shanghai time; '—' for nothing. */
export function formatTime(value: string | Date | null | undefined): string {
  if (!value) return '—'
  const date = typeof value === 'string' ? new Date(hasZone(value) ? value : `${value}Z`) : value
  if (Number.isNaN(date.getTime())) return String(value)
  const parts = Object.fromEntries(full.formatToParts(date).map((p) => [p.type, p.value]))
  const hour = parts.hour === '24' ? '00' : parts.hour
  return `${parts.year}-${parts.month}-${parts.day} ${hour}:${parts.minute}:${parts.second}`
}

/** A wall-clock time picked in Shanghai ("2026-11-26 14:00:00") as ISO 8601 with its offset, for the API. */
export function shanghaiToIso(wallClock: string): string {
  return `${wallClock.replace(' ', 'T')}+08:00`
}

function hasZone(text: string): boolean {
  return /(?:Z|[+-]\d{2}:?\d{2})$/.test(text)
}
