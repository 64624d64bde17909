import type { FormRules } from 'element-plus'

/** What the settings forms share: the backend's code rule (catalog CodeStr) and blank → null. */
export const CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** Trimmed text, or null when blank (an optional field left out). */
export function orNull(text: string | null | undefined): string | null {
  const trimmed = (text ?? '').trim()
  return trimmed === '' ? null : trimmed
}

/** "key=value" lines → an object; blank lines ignored. */
export function parsePairs(text: string): Record<string, string> {
  const pairs: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const at = line.indexOf('=')
    if (at <= 0) continue
    pairs[line.slice(0, at).trim()] = line.slice(at + 1).trim()
  }
  return pairs
}

/** The rules of a form with a catalog code (CODE_PATTERN) and a required name, in the page's words. */
export function codeAndNameRules(required: string, codeRule: string): FormRules {
  return {
    code: [{ required: true, message: required }, { pattern: CODE_PATTERN, message: codeRule }],
    name: [{ required: true, message: required }],
  }
}
