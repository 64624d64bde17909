import { fileURLToPath, URL } from 'node:url'

import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig } from 'vite'

// The console is served by FastAPI at / (see src/baodan/web.py); `npm run dev` proxies the API to a
// `baodan serve` on 127.0.0.1:8000 (override with BAODAN_API).
const api = process.env.BAODAN_API ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [
    vue(),
    // Element Plus components are imported where a template uses them (with their CSS), so each page
    // chunk carries only what it needs. Types come from element-plus/global (tsconfig), hence no dts.
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  define: {
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Libraries many pages share get their own long-cached chunks instead of landing in the entry.
        manualChunks(id) {
          if (id.includes('node_modules/echarts') || id.includes('node_modules/zrender')) return 'echarts'
        },
      },
    },
  },
  server: {
    proxy: { '/api': api, '/events': api },
  },
})
