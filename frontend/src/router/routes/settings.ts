// 店铺/设置: shops and platform credentials, warehouses, users and roles, carrier accounts (src/views/settings/).
import { Setting } from '@element-plus/icons-vue'

import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/settings',
    name: 'settings',
    component: () => import('@/views/settings/SettingsView.vue'),
    meta: { titleKey: 'nav.settings', permission: 'catalog.read', icon: Setting, navOrder: 90 },
  },
] satisfies ConsoleRoutes
