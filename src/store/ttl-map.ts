/**
 * A Map whose entries expire: the one piece of housekeeping every embedded
 * (memory) store shares. Expiry is driven by a min-heap of expiry times, so a
 * sweep costs O(expired · log n), never a scan of every live entry; an expired
 * entry is invisible at once, whether or not a sweep has run yet.
 */
import { timerDelay } from "../domain/timer-delay.js";

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** Heap slot: an expiry time and the key it was scheduled for. */
interface Due<K> {
  at: number;
  key: K;
}

/**
 * Entries with an absolute expiry time (ms since the epoch, the stores' clock).
 * Setting a key again replaces its value and expiry; the heap keeps the old
 * slot until it surfaces (a stale slot is skipped), and is rebuilt when stale
 * slots outnumber the live ones, so its size stays O(live entries).
 */
export class TtlMap<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private heap: Due<K>[] = [];

  /**
   * `onExpire` is called once for each entry that leaves the map because it
   * expired (found expired by `get`, or swept), with its last value; never
   * for `delete`, `clear` or a replacement. A store uses it to drop what
   * points at the entry (its secondary indexes), so those stay bounded too.
   */
  constructor(private readonly onExpire?: (key: K, value: V) => void) {}

  /** Live and not-yet-swept entries (what memory holds). */
  get size(): number {
    return this.entries.size;
  }

  /** The value, if its entry has not expired at `now`. */
  get(key: K, now: number): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= now) {
      this.entries.delete(key);
      this.onExpire?.(key, e.value);
      return undefined;
    }
    return e.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    const e = this.entries.get(key);
    if (e !== undefined) {
      // Same expiry (a state change of the same record): the slot already scheduled still fits.
      const rescheduled = e.expiresAt !== expiresAt;
      e.value = value;
      e.expiresAt = expiresAt;
      if (!rescheduled) return;
    } else {
      this.entries.set(key, { value, expiresAt });
    }
    this.push({ at: expiresAt, key });
    if (this.heap.length > 2 * this.entries.size + 64) this.rebuild();
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** When the entry under `key` expires (expired or not), or undefined if there is none. */
  expiryOf(key: K): number | undefined {
    return this.entries.get(key)?.expiresAt;
  }

  /** The keys of the entries live at `now`, in insertion order (for listings; O(n)). */
  *keys(now: number): IterableIterator<K> {
    for (const [key, e] of this.entries) if (e.expiresAt > now) yield key;
  }

  /**
   * Drops every entry expired at `now`. The work is proportional to what
   * expired (plus stale slots): returns the number of heap slots it took out.
   */
  sweep(now: number): number {
    const heap = this.heap;
    let taken = 0;
    while (heap.length > 0 && (heap[0] as Due<K>).at <= now) {
      const due = this.pop();
      taken++;
      const e = this.entries.get(due.key);
      // A stale slot (the key was set again with another expiry, or deleted) is skipped.
      if (e !== undefined && e.expiresAt === due.at) {
        this.entries.delete(due.key);
        this.onExpire?.(due.key, e.value);
      }
    }
    return taken;
  }

  clear(): void {
    this.entries.clear();
    this.heap = [];
  }

  /** One slot per live entry again, in O(n). */
  private rebuild(): void {
    this.heap = [];
    for (const [key, e] of this.entries) this.heap.push({ at: e.expiresAt, key });
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private push(due: Due<K>): void {
    const heap = this.heap;
    heap.push(due);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as Due<K>).at <= due.at) break;
      heap[i] = heap[parent] as Due<K>;
      i = parent;
    }
    heap[i] = due;
  }

  private pop(): Due<K> {
    const heap = this.heap;
    const top = heap[0] as Due<K>;
    const last = heap.pop() as Due<K>;
    if (heap.length > 0) {
      heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private down(start: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[start] as Due<K>;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && (heap[right] as Due<K>).at < (heap[child] as Due<K>).at) child = right;
      if ((heap[child] as Due<K>).at >= item.at) break;
      heap[i] = heap[child] as Due<K>;
      i = child;
    }
    heap[i] = item;
  }
}

/**
 * Sweeps a store's maps every `everyMs` without keeping the process alive;
 * returns the function that stops it.
 */
export function sweepEvery(
  everyMs: number,
  clock: () => number,
  maps: readonly Pick<TtlMap<unknown, unknown>, "sweep">[],
): () => void {
  const timer = setInterval(
    () => {
      const now = clock();
      for (const m of maps) m.sweep(now);
    },
    // Node would turn an interval past 2^31 - 1 ms into 1 ms: a busy sweep.
    timerDelay(everyMs),
  );
  timer.unref();
  return () => clearInterval(timer);
}
