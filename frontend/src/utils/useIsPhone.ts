import { onBeforeUnmount, ref } from 'vue'

/** True on a phone-sized window (narrower than 768 px); follows resizes. */
export function useIsPhone() {
  const query = window.matchMedia('(max-width: 767px)')
  const isPhone = ref(query.matches)
  const update = (event: MediaQueryListEvent) => { isPhone.value = event.matches }
  query.addEventListener('change', update)
  onBeforeUnmount(() => query.removeEventListener('change', update))
  return isPhone
}
