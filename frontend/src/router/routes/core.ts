// Pages outside the navigation: sign-in (and the forced password change).
import type { ConsoleRoutes } from '../types'

export default [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { titleKey: 'auth.title', layout: 'blank', public: true },
  },
] satisfies ConsoleRoutes
