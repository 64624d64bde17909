/** A price typed in yuan ("12", "12.5", "12.50") → integer fen, with string arithmetic only (never a float);
 * null when it is not a non-negative amount with at most two decimals. */
export function yuanToFen(text: string): number | null {
  const match = /^(\d{1,10})(?:\.(\d{0,2}))?$/.exec(text.trim())
  if (!match) return null
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'))
}

/** Integer fen → the yuan text the price field shows ("1250" → "12.50"). */
export function fenToYuan(fen: number): string {
  return `${Math.trunc(fen / 100)}.${String(fen % 100).padStart(2, '0')}`
}
