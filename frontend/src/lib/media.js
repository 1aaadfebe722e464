// A CSS media query as the viewer app sees it, followed as the window changes.
import { onBeforeUnmount, onMounted, readonly, ref } from 'vue'

/** Bootstrap's lg breakpoint: from here the page has two columns (see WatchApp.vue). */
export const WIDE = '(min-width: 992px)'

/** A read-only ref, true while ``query`` matches, kept up to date while mounted. */
export function useMediaQuery(query) {
  const list = window.matchMedia(query)
  const matches = ref(list.matches)
  const follow = () => { matches.value = list.matches }
  onMounted(() => {
    follow()
    list.addEventListener('change', follow)
  })
  onBeforeUnmount(() => list.removeEventListener('change', follow))
  return readonly(matches)
}
