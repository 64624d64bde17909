import type { Component } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title (and of its navigation entry). */
    titleKey?: string
    /** The permission the page needs (GET /api/v1/permissions); absent: any signed-in user. */
    permission?: string
    /** Shown in the side navigation at this position (ascending); absent: not in the navigation. */
    navOrder?: number
    /** Navigation icon, e.g. `import { List } from '@element-plus/icons-vue'`. */
    icon?: Component
    /** 'console' (default): inside the layout with navigation; 'blank': the whole window (login, 大屏). */
    layout?: 'console' | 'blank'
    /** Reachable without signing in. */
    public?: boolean
  }
}

/** What a file in src/router/routes/ default-exports. */
export type ConsoleRoutes = RouteRecordRaw[]
