/** What a console screen starts with, in one call: texts (t) and code labels, the signed-in user (auth),
 * shop/warehouse names (lookups), the phone-sized flag, the route and the router. Call it in setup. */
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter } from 'vue-router'

import { useAuthStore } from '@/stores/auth'
import { useLookupsStore } from '@/stores/lookups'
import { useLabels } from '@/utils/labels'
import { useIsPhone } from '@/utils/useIsPhone'

export function useConsole() {
  const { t } = useI18n()
  const { label } = useLabels()
  return { t, label, auth: useAuthStore(), lookups: useLookupsStore(), isPhone: useIsPhone(), route: useRoute(),
    router: useRouter() }
}
