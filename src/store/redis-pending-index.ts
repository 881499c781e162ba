/**
 * The per-client index of pending requests on Redis (layout and scripts:
 * redis-operator-scripts.ts): one-minute buckets of fixed-width entries,
 * read newest first and pruned on read.
 */
import type { CodeHandle } from "../domain/device-code.js";
import {
  afterCursor,
  byCreationDesc,
  type IndexCursor,
  type IndexPage,
} from "../domain/ports/creation-index.js";
import { scriptCommands } from "./lua-script.js";
import type { RedisConnection } from "./redis-connection.js";
import {
  FORGET_BUCKET,
  INDEX_PENDING,
  PENDING_BUCKET_MS,
  PENDING_ENTRY_WIDTH,
  PRUNE_PENDING,
} from "./redis-operator-scripts.js";

interface ScriptCommands {
  handoffPendingIndex(
    dir: string,
    bucket: string,
    ...args: Array<string | number>
  ): Promise<number>;
  handoffPendingPrune(bucket: string, ...entries: string[]): Promise<number>;
  handoffPendingForget(set: string, bucket: string, id: string): Promise<number>;
}

const TAG = 4;
const HASH = 16;
const AT = PENDING_ENTRY_WIDTH - TAG - HASH;
/** Entries resolved at once (each is one read, in its own slot on a cluster). */
const BATCH = 64;

/** What writes one request's entry (see `RedisPendingIndex.entry`). */
export interface PendingEntryWrite {
  readonly set: string;
  readonly bucket: string;
  readonly entry: string;
  readonly id: string;
  readonly start: number;
}

interface Entry extends IndexCursor {
  readonly device: CodeHandle;
  /** As stored, for pruning. */
  readonly raw: string;
}

function entryOf(raw: string): Entry | null {
  const device = { tag: raw.slice(0, TAG), hash: raw.slice(TAG, TAG + HASH) };
  const at = Number.parseInt(raw.slice(TAG + HASH), 36);
  if (!Number.isFinite(at)) return null;
  return { device, at, id: `${device.tag}:${device.hash}`, raw };
}

export class RedisPendingIndex {
  private readonly cmd: ScriptCommands;

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix = "",
  ) {
    this.cmd = scriptCommands(redis.client, {
      handoffPendingIndex: { numberOfKeys: 2, lua: INDEX_PENDING },
      handoffPendingPrune: { numberOfKeys: 1, lua: PRUNE_PENDING },
      handoffPendingForget: { numberOfKeys: 2, lua: FORGET_BUCKET },
    }) as unknown as ScriptCommands;
  }

  /** The client's set of bucket ids. */
  buckets(clientId: string): string {
    return `${this.prefix}device:client:{${clientId}}`;
  }

  bucket(clientId: string, id: string): string {
    return `${this.buckets(clientId)}:${id}`;
  }

  /**
   * The keys (the bucket set, the bucket) and arguments (entry, bucket id,
   * bucket start) of a request's entry; undefined if the handle or time does
   * not fit the fixed width (then it is not listed).
   */
  entry(clientId: string, device: CodeHandle, createdAt: number): PendingEntryWrite | undefined {
    const at = createdAt.toString(36).padStart(AT, "0");
    if (device.tag.length !== TAG || device.hash.length !== HASH || at.length !== AT) return;
    const start = createdAt - (createdAt % PENDING_BUCKET_MS);
    const id = (start / PENDING_BUCKET_MS).toString(36);
    return {
      set: this.buckets(clientId),
      bucket: this.bucket(clientId, id),
      entry: `${device.tag}${device.hash}${at}`,
      id,
      start,
    };
  }

  /**
   * The entry as its own step (INDEX_PENDING), for a Cluster where the
   * client's keys are in another slot than the record. Best effort: a missed
   * entry only leaves the request out of the operators' listing.
   */
  async add(clientId: string, device: CodeHandle, createdAt: number, endsAt: number) {
    const w = this.entry(clientId, device, createdAt);
    if (w === undefined) return;
    await this.redis
      .guard(() =>
        this.cmd.handoffPendingIndex(w.set, w.bucket, w.entry, w.id, w.start, createdAt, endsAt),
      )
      .catch(() => undefined);
  }

  /**
   * One page after `after`, newest first. `resolve` reads the rows of a batch
   * of handles (undefined: gone, expired or decided); those entries are
   * pruned, and buckets that expired leave the set.
   */
  async page<T>(
    clientId: string,
    limit: number,
    after: IndexCursor | undefined,
    resolve: (devices: readonly CodeHandle[]) => Promise<ReadonlyArray<T | undefined>>,
  ): Promise<IndexPage<T>> {
    const set = this.buckets(clientId);
    const max = after === undefined ? "+inf" : String(after.at);
    const ids = await this.redis.guard(() => this.redis.client.zrevrangebyscore(set, max, "-inf"));
    const items: T[] = [];
    const gone: string[] = [];
    let last: Entry | undefined;
    let more = false;
    for (const id of ids) {
      const key = this.bucket(clientId, id);
      const packed = await this.redis.guard(() => this.redis.client.get(key));
      if (packed === null) {
        gone.push(id);
        continue;
      }
      const entries: Entry[] = [];
      for (let i = 0; i + PENDING_ENTRY_WIDTH <= packed.length; i += PENDING_ENTRY_WIDTH) {
        const e = entryOf(packed.slice(i, i + PENDING_ENTRY_WIDTH));
        if (e !== null && afterCursor(e.at, e.id, after)) entries.push(e);
      }
      entries.sort(byCreationDesc);
      const stale: string[] = [];
      for (let i = 0; i < entries.length && !more; i += BATCH) {
        const chunk = entries.slice(i, i + BATCH);
        const rows = await resolve(chunk.map((e) => e.device));
        chunk.forEach((e, j) => {
          if (more) return;
          const row = rows[j];
          if (row === undefined) stale.push(e.raw);
          else if (items.length === limit) more = true;
          else {
            items.push(row);
            last = e;
          }
        });
      }
      if (stale.length > 0)
        await this.redis.guard(() => this.cmd.handoffPendingPrune(key, ...stale));
      if (more) break;
    }
    for (const id of gone) {
      await this.redis.guard(() =>
        this.cmd.handoffPendingForget(set, this.bucket(clientId, id), id),
      );
    }
    return more && last !== undefined ? { items, next: { at: last.at, id: last.id } } : { items };
  }
}
