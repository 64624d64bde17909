/**
 * What the list-and-dialog screens share (with src/components/CrudTable.vue): a list loaded whole, in keyset
 * pages or in cursor pages, and a form dialog opened blank or filled from a row. Errors are shown by the API
 * client (src/api/http.ts), so a failed call only ends the busy flag. Each returns a reactive object: use
 * `list.rows`, `dialog.form` without `.value`, in templates and scripts alike.
 */
import { reactive, ref, type Ref } from 'vue'

import type { Page } from '@/api/http'
import { confirmThen } from '@/utils/toast'

/** Run `work` with `flag` set; true when it did not throw (the API client has shown the error) and did not
 * answer `false`. */
export async function whileBusy(flag: Ref<boolean>, work: () => Promise<unknown>): Promise<boolean> {
  flag.value = true
  try {
    return (await work()) !== false
  } catch {
    return false
  } finally {
    flag.value = false
  }
}

export interface ListState<T> {
  rows: T[]
  loading: boolean
  /** undefined: the list has no pages (everything at once) */
  more?: boolean
  load(append?: boolean): Promise<boolean>
  /** Ask, run `work` on a row, say `done` and reload (a delete, a revoke). */
  act(message: string, title: string, work: () => Promise<unknown>, done: string): Promise<void>
}

function listState<T>(fetch: (append: boolean, rows: T[]) => Promise<{ rows: T[]; more?: boolean }>): ListState<T> {
  const loading = ref(false)
  const state = reactive({
    rows: [] as T[],
    loading,
    more: undefined as boolean | undefined,
    load: (append = false) => whileBusy(loading, async () => {
      const answer = await fetch(append, state.rows as T[])
      state.rows = answer.rows as never
      state.more = answer.more
    }),
    act: async (message: string, title: string, work: () => Promise<unknown>, done: string) => {
      if (await confirmThen(message, title, work, done)) await state.load()
    },
  })
  return state as ListState<T>
}

/** A list answered whole (settings lists, at most a few hundred rows). */
export function useList<T>(fetch: () => Promise<T[]>): ListState<T> {
  return listState<T>(async () => ({ rows: await fetch() }))
}

/** Keyset pages of `size`: `fetch(last)` answers the rows after `last` (undefined: the first page). */
export function usePages<T>(fetch: (last: T | undefined) => Promise<T[]>, size: number): ListState<T> {
  return listState<T>(async (append, rows) => {
    const page = await fetch(append ? rows[rows.length - 1] : undefined)
    return { rows: append ? rows.concat(page) : page, more: page.length === size }
  })
}

/** Cursor pages ({items, next_cursor}): `fetch(cursor)` with null for the first page. */
export function useCursorPages<T>(fetch: (cursor: string | null) => Promise<Page<T>>): ListState<T> {
  let cursor: string | null = null
  return listState<T>(async (append, rows) => {
    const page = await fetch(append ? cursor : null)
    cursor = page.next_cursor
    return { rows: append ? rows.concat(page.items) : page.items, more: cursor !== null }
  })
}

export interface FormDialogState<F, R> {
  open: boolean
  busy: boolean
  /** the row being edited; null for a new one */
  editing: R | null
  form: F
  /** Open the dialog: blank, or for `row` with the form filled from it (`fill`), then from `values`. */
  show(row?: R | null, values?: Partial<F>): void
  /** Submit; the dialog closes when `submit` neither throws nor answers false. */
  save(): Promise<void>
}

export interface FormDialogOptions<F, R> {
  /** a new form's values */
  blank: () => F
  /** the form's values to edit `row` */
  fill?: (row: R) => Partial<F>
  /** send the form (and say so); false keeps the dialog open */
  submit: (form: F, editing: R | null) => Promise<unknown>
  /** after the dialog closed (typically the list's reload) */
  done?: () => unknown
}

/** A form in a dialog, for a new row or one being edited. */
export function useFormDialog<F extends object, R = never>(options: FormDialogOptions<F, R>): FormDialogState<F, R> {
  const busy = ref(false)
  const state = reactive({
    open: false,
    busy,
    editing: null as R | null,
    form: options.blank(),
    show(row: R | null = null, values: Partial<F> = {}) {
      state.editing = row as never
      Object.assign(state.form as F, options.blank(), row !== null && options.fill ? options.fill(row) : {}, values)
      state.open = true
    },
    async save() {
      if (busy.value) return
      if (await whileBusy(busy, () => options.submit(state.form as F, state.editing as R | null))) {
        state.open = false
        await options.done?.()
      }
    },
  })
  return state as unknown as FormDialogState<F, R>
}
