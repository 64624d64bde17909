/// <reference types="vite/client" />

declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

// Element Plus' per-component CSS entries (side-effect imports) ship without type declarations.
declare module 'element-plus/es/components/*/style/css'
