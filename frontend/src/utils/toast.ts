/** Short messages at the top of the window (Element Plus' ElMessage with its CSS). Import this rather than
 * ElMessage so the CSS comes along; pages load it with their own chunk, never the entry. */
import { ElMessage } from 'element-plus'
import 'element-plus/es/components/message/style/css'

export const toast = {
  success: (text: string) => ElMessage.success(text),
  warning: (text: string) => ElMessage.warning(text),
  error: (text: string) => ElMessage.error(text),
}
