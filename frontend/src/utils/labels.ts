import { useI18n } from 'vue-i18n'

/** Translate a code under a namespace (`label('orders.state', 'held')` → 异常挂起), showing the code itself
 * when the console has no translation for it (a newer backend value stays readable). */
export function useLabels() {
  const { t, te } = useI18n()
  return {
    label(namespace: string, code: string | null | undefined): string {
      if (code === null || code === undefined || code === '') return '—'
      const key = `${namespace}.${code}`
      return te(key) ? t(key) : code
    },
  }
}
