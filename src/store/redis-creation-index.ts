/** Reading a per-client index on Redis (see redis-operator-scripts.ts): pages newest first, pruned on read. */
import { afterCursor, type IndexCursor, type IndexPage } from "../domain/ports/creation-index.js";
import type { RedisConnection } from "./redis-connection.js";

/**
 * One page of the sorted set `index` after `after`. `resolve` reads the rows
 * of a batch of members (undefined: gone, expired or no longer listed); those
 * members are removed from the index. Reads in batches until the page is full
 * or the index ends, so stale entries never shorten a page that has a next.
 */
export async function readCreationIndex<T>(
  redis: RedisConnection,
  index: string,
  limit: number,
  after: IndexCursor | undefined,
  resolve: (members: readonly string[]) => Promise<ReadonlyArray<T | undefined>>,
): Promise<IndexPage<T>> {
  const batch = Math.min(Math.max(limit + 1, 32), 1000);
  const max = after === undefined ? "+inf" : String(after.at);
  const items: T[] = [];
  const stale: string[] = [];
  let last: IndexCursor | undefined;
  let more = false;
  for (let offset = 0; !more; ) {
    const flat = await redis.guard(() =>
      redis.client.zrevrangebyscore(index, max, "-inf", "WITHSCORES", "LIMIT", offset, batch),
    );
    const entries: IndexCursor[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const e = { id: String(flat[i]), at: Number(flat[i + 1]) };
      if (afterCursor(e.at, e.id, after)) entries.push(e);
    }
    offset += flat.length / 2;
    const rows = await resolve(entries.map((e) => e.id));
    entries.forEach((e, i) => {
      if (more) return;
      const row = rows[i];
      if (row === undefined) stale.push(e.id);
      else if (items.length === limit) more = true;
      else {
        items.push(row);
        last = e;
      }
    });
    if (flat.length / 2 < batch) break;
  }
  if (stale.length > 0) await redis.guard(() => redis.client.zrem(index, ...stale));
  return more && last !== undefined ? { items, next: last } : { items };
}
