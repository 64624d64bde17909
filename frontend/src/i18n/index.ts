/**
 * vue-i18n with messages collected from src/i18n/<locale>/*.ts: each file default-exports an object and
 * its name is the namespace (src/i18n/zh-CN/orders.ts → t('orders.…')). zh-CN is bundled with the entry;
 * other locales load when chosen.
 */
import type { Ref } from 'vue'
import { createI18n } from 'vue-i18n'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: Locale[] = ['zh-CN', 'en']
export const DEFAULT_LOCALE: Locale = 'zh-CN'
const STORAGE_KEY = 'baodan.locale'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Messages = Record<string, any>

function collect(modules: Record<string, { default: Messages }>): Messages {
  const messages: Messages = {}
  for (const [path, module] of Object.entries(modules)) {
    const namespace = path.split('/').pop()!.replace(/\.ts$/, '')
    messages[namespace] = module.default
  }
  return messages
}

const zhCN = collect(import.meta.glob<{ default: Messages }>('./zh-CN/*.ts', { eager: true }))
const lazy = import.meta.glob<{ default: Messages }>('./en/*.ts')

export const i18n = createI18n({
  legacy: false,
  locale: DEFAULT_LOCALE,
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN } as Record<string, Messages>,
  missingWarn: false,
  fallbackWarn: false,
})

const loaded = new Set<Locale>(['zh-CN'])

async function loadLocale(locale: Locale): Promise<void> {
  if (loaded.has(locale)) return
  const prefix = `./${locale}/`
  const entries = Object.entries(lazy).filter(([path]) => path.startsWith(prefix))
  const modules = await Promise.all(entries.map(async ([path, load]) => [path, await load()] as const))
  i18n.global.setLocaleMessage(locale, collect(Object.fromEntries(modules)) as never)
  loaded.add(locale)
}

export async function setLocale(locale: Locale): Promise<void> {
  await loadLocale(locale)
  ;(i18n.global.locale as unknown as Ref<string>).value = locale
  document.documentElement.lang = locale
  localStorage.setItem(STORAGE_KEY, locale)
}

export function savedLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  return LOCALES.includes(saved as Locale) ? (saved as Locale) : DEFAULT_LOCALE
}

/** t() and te() for code outside components (the API client, the router), with plain string types. */
const plain = i18n.global as unknown as { t(key: string): string; te(key: string): boolean }
export const translate = (key: string): string => plain.t(key)
export const hasTranslation = (key: string): boolean => plain.te(key)
