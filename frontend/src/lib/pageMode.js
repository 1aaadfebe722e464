// The page's colour mode as the viewer app sees it: what the colour-mode script
// (src/colorMode.js) has put in <html data-bs-theme>, followed as it changes.
import { onBeforeUnmount, onMounted, readonly, ref } from 'vue'

function currentMode() {
  return document.documentElement.getAttribute('data-bs-theme') === 'dark' ? 'dark' : 'light'
}

/** A read-only ref, 'light' or 'dark', kept equal to the page's colour mode while mounted. */
export function usePageMode() {
  const mode = ref(currentMode())
  const observer = new MutationObserver(() => { mode.value = currentMode() })
  onMounted(() => {
    mode.value = currentMode()
    observer.observe(document.documentElement, { attributes: true,
                                                 attributeFilter: ['data-bs-theme'] })
  })
  onBeforeUnmount(() => observer.disconnect())
  return readonly(mode)
}
