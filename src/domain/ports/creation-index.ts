/**
 * Pages over a secondary index ordered by creation, newest first (the
 * operators' listings by client, README "Operator listings"). An index entry
 * is a pointer that may outlive what it names: stores skip and prune those
 * on read, so a page can hold fewer rows than asked even when more follow.
 */

/** Where a page starts: right after the entry created at `at` with id `id`. */
export interface IndexCursor {
  /** Epoch ms the entry was created. */
  readonly at: number;
  readonly id: string;
}

/** One page, newest first (ties: greater id first); `next` is absent on the last page. */
export interface IndexPage<T> {
  readonly items: readonly T[];
  readonly next?: IndexCursor;
}

/**
 * True when an entry `(at, id)` comes after `cursor` in the index order:
 * creation time descending, then id descending (as Redis orders a sorted set
 * read in reverse).
 */
export function afterCursor(at: number, id: string, cursor: IndexCursor | undefined): boolean {
  if (cursor === undefined) return true;
  return at < cursor.at || (at === cursor.at && id < cursor.id);
}

/** Index order: newest first, ties by id descending. */
export function byCreationDesc(
  a: { readonly at: number; readonly id: string },
  b: { readonly at: number; readonly id: string },
): number {
  if (a.at !== b.at) return b.at - a.at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
