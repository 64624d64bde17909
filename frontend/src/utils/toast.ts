/** Short messages at the top of the window (Element Plus' ElMessage with its CSS) and the "are you sure?"
 * box. Import this rather than ElMessage/ElMessageBox so the CSS comes along; pages load it with their own
 * chunk, never the entry. */
import { ElMessage, ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'

import { translate } from '@/i18n'

export const toast = {
  success: (text: string) => ElMessage.success(text),
  info: (text: string) => ElMessage.info(text),
  warning: (text: string) => ElMessage.warning(text),
  error: (text: string) => ElMessage.error(text),
}

/** Ask before a change (确定/取消); false when the user cancels or closes the box. */
export async function confirmed(message: string, title: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(message, title, { confirmButtonText: translate('common.confirm'),
      cancelButtonText: translate('common.cancel'), type: 'warning' })
    return true
  } catch {
    return false
  }
}

/** Ask for an optional note (up to 200 characters) before a change; null when the user cancels. */
export async function promptNote(message: string, title: string, placeholder: string): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt(message, title, {
      inputPlaceholder: placeholder, confirmButtonText: translate('common.confirm'),
      cancelButtonText: translate('common.cancel'), inputPattern: /^.{0,200}$/s,
    })
    return value ?? ''
  } catch {
    return null // closed
  }
}

/** Put `text` on the clipboard and say so; without a clipboard (plain http) nothing happens and the text
 * stays selectable where it is shown. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    toast.success(translate('settings.copied'))
  } catch {
    // no clipboard
  }
}

/** Ask, then run `work` and say `done`; true when it ran (its errors are shown by the API client). */
export async function confirmThen(message: string, title: string, work: () => Promise<unknown>,
  done?: string): Promise<boolean> {
  if (!(await confirmed(message, title))) return false
  try {
    await work()
  } catch {
    return false
  }
  if (done) toast.success(done)
  return true
}
