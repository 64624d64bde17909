/** Money is integer fen (分) end to end; formatting uses integer arithmetic only, never float division. */

/** 123456 → "¥1,234.56"; -5 → "-¥0.05". */
export function formatFen(fen: number | null | undefined, symbol = '¥'): string {
  if (fen === null || fen === undefined) return '—'
  if (!Number.isSafeInteger(fen)) return String(fen)
  const negative = fen < 0
  const abs = negative ? -fen : fen
  const yuan = Math.trunc(abs / 100) // exact: abs is a safe integer, truncation drops the fen
  const cents = abs - yuan * 100
  const grouped = String(yuan).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return `${negative ? '-' : ''}${symbol}${grouped}.${String(cents).padStart(2, '0')}`
}
