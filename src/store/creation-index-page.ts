/** The embedded stores' per-client indexes: id → creation time, paged newest first, pruned on read. */
import {
  afterCursor,
  byCreationDesc,
  type IndexCursor,
  type IndexPage,
} from "../domain/ports/creation-index.js";

/**
 * One page of `entries` after `after`: `resolve` gives the live row of an
 * entry or undefined, and an entry without one is removed from the index.
 */
export function pageOfIndex<T>(
  entries: Map<string, number>,
  limit: number,
  after: IndexCursor | undefined,
  resolve: (id: string) => T | undefined,
): IndexPage<T> {
  const ordered = [...entries]
    .map(([id, at]) => ({ id, at }))
    .filter((e) => afterCursor(e.at, e.id, after))
    .sort(byCreationDesc);
  const items: T[] = [];
  let last: IndexCursor | undefined;
  for (const e of ordered) {
    const row = resolve(e.id);
    if (row === undefined) {
      entries.delete(e.id);
      continue;
    }
    if (items.length === limit) return { items, ...(last ? { next: last } : {}) };
    items.push(row);
    last = e;
  }
  return { items };
}

/**
 * Adds an entry and drops those created more than one lifetime (`endsAt -
 * createdAt`) before it: they have ended, so the index stays bounded by what
 * may still be live even when nobody reads it.
 */
export function addToIndex(
  index: Map<string, Map<string, number>>,
  owner: string,
  id: string,
  createdAt: number,
  endsAt: number,
): void {
  const entries = index.get(owner) ?? new Map<string, number>();
  index.set(owner, entries);
  const before = createdAt - (endsAt - createdAt);
  // Insertion order is creation order but for clock skew: stop at the first live one.
  for (const [other, at] of entries) {
    if (at >= before) break;
    entries.delete(other);
  }
  entries.set(id, createdAt);
}
