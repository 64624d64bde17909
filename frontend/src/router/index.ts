/**
 * Routes are collected from src/router/routes/*.ts (each default-exports ConsoleRoutes): adding a page
 * means adding a file there, nothing else. Pages with meta.layout 'blank' take the whole window; the
 * others render inside ConsoleLayout, whose navigation lists the routes with meta.navOrder the user may
 * open, of either layout (a 'blank' one, 数字大屏, opens full window from the navigation).
 */
import { createRouter, createWebHistory, type RouteLocationNormalized, type RouteRecordRaw } from 'vue-router'

import { useAuthStore } from '@/stores/auth'
import type { ConsoleRoutes } from './types'

const modules = import.meta.glob<{ default: ConsoleRoutes }>('./routes/*.ts', { eager: true })
const all: RouteRecordRaw[] = Object.values(modules).flatMap((module) => module.default)
const blank = all.filter((route) => route.meta?.layout === 'blank')
const inConsole = all.filter((route) => route.meta?.layout !== 'blank')

/** Routes shown in the navigation, in order (the layout filters them by permission). */
export const navRoutes = all
  .filter((route) => route.meta?.navOrder !== undefined)
  .sort((a, b) => (a.meta!.navOrder ?? 0) - (b.meta!.navOrder ?? 0))

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    ...blank,
    {
      path: '/',
      component: () => import('@/layouts/ConsoleLayout.vue'),
      children: [
        { path: '', name: 'home', component: () => import('@/views/HomeRedirect.vue') },
        ...inConsole,
        { path: '/forbidden', name: 'forbidden', component: () => import('@/views/ForbiddenView.vue') },
        { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue') },
      ],
    },
  ],
})

/** The first navigation entry this user may open ('/forbidden' when none). */
export function homePath(can: (permission?: string | null) => boolean): string {
  const first = navRoutes.find((route) => can(route.meta?.permission))
  return first ? first.path : '/forbidden'
}

router.beforeEach(async (to: RouteLocationNormalized) => {
  if (to.meta.public) return true
  const auth = useAuthStore()
  const me = await auth.load()
  if (!me) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  if (me.must_change_password) return { name: 'login', query: { step: 'password' } }
  if (to.meta.permission && !auth.can(to.meta.permission)) return { name: 'forbidden' }
  return true
})
