import { createPinia } from 'pinia'
import { createApp } from 'vue'

import App from './App.vue'
import { setAuthProblemHandler } from './api/http'
import { i18n, savedLocale, setLocale, translate } from './i18n'
import { router } from './router'
import { useAuthStore } from './stores/auth'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(i18n).use(router)

// A session that ended (401) or a one-time password (403 auth.password_change_required): back to sign-in.
setAuthProblemHandler((error) => {
  const auth = useAuthStore(pinia)
  const current = router.currentRoute.value
  if (error.code === 'auth.password_change_required') {
    void auth.load(true).then(() => router.push({ name: 'login', query: { step: 'password' } }))
  } else if (current.name !== 'login') {
    auth.$patch({ me: null })
    void router.push({ name: 'login', query: { redirect: current.fullPath } })
  }
})

router.afterEach((to) => {
  const title = to.meta.titleKey ? translate(to.meta.titleKey) : ''
  document.title = title ? `${title} · ${translate('common.appName')}` : translate('common.appFullName')
})

void setLocale(savedLocale()).finally(() => app.mount('#app'))
