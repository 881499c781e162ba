/**
 * The deadlines of one Redis connection's pending store operations, on one
 * timer (RedisConnection's `guard`, src/store/redis-connection.ts).
 *
 * Every operation gets the same deadline, so operations expire in the order
 * they started. They are kept in groups by the GROUP_MS step in which they
 * expire, oldest group first; an operation that answers leaves its group at
 * once. The timer wakes when the oldest group with an operation still in it
 * is due, fails what is left in the groups that are due, and sleeps until
 * the next. Starting and ending a deadline cost no timer of their own (a
 * setTimeout/clearTimeout pair per store call was a measurable share of a
 * poll), and an operation that has answered holds nothing: kept until its
 * deadline instead, every operation of the last few seconds (tens of
 * thousands under load) stayed reachable with its promise, long enough to
 * be promoted out of V8's young generation, and the scavenges that moved
 * them were a large part of the poll's garbage-collection time
 * (docs/architecture.md "Redis").
 */

/** Fails one pending operation. */
export type Expire = () => void;

/** An operation fails at most this long after its deadline. */
export const GROUP_MS = 10;

interface Group {
  readonly at: number;
  readonly pending: Set<Expire>;
}

export class OperationDeadlines {
  private groups: Group[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /**
   * Starts an operation's deadline: `expire` runs once it passes, unless the
   * operation answers first and takes `expire` out of the set returned
   * (`pending.delete(expire)`).
   */
  start(expire: Expire): Set<Expire> {
    const at = Math.ceil((performance.now() + this.ms) / GROUP_MS) * GROUP_MS;
    let group = this.groups[this.groups.length - 1];
    if (group === undefined || group.at !== at) {
      group = { at, pending: new Set() };
      this.groups.push(group);
    }
    group.pending.add(expire);
    if (this.timer === undefined) this.arm(at);
    return group.pending;
  }

  /** Operations started and not yet answered or failed. */
  get size(): number {
    let n = 0;
    for (let i = this.head; i < this.groups.length; i++)
      n += (this.groups[i] as Group).pending.size;
    return n;
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.wake(), Math.max(1, Math.ceil(at - performance.now())));
  }

  private wake(): void {
    this.timer = undefined;
    const now = performance.now();
    const groups = this.groups;
    while (this.head < groups.length) {
      const group = groups[this.head] as Group;
      if (group.pending.size > 0) {
        if (group.at > now) break;
        const due = [...group.pending];
        group.pending.clear();
        for (const expire of due) expire();
      }
      this.head++;
    }
    if (this.head === groups.length) {
      this.groups = [];
      this.head = 0;
      return;
    }
    // Drop the passed groups now and then, not on every wake.
    if (this.head > 64 && this.head * 2 > groups.length) {
      this.groups = groups.slice(this.head);
      this.head = 0;
    }
    this.arm((this.groups[this.head] as Group).at);
  }
}
