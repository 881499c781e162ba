/** The Redis attempt counter: every instance shares the counters; each step is one Lua script. */
import type { Redis } from "ioredis";
import type {
  AttemptCounter,
  AttemptSlot,
  AttemptVerdict,
} from "../domain/ports/attempt-counter.js";
import { ATTEMPT, FORGIVE } from "./attempt-counter-scripts.js";
import type { RedisConnection } from "./redis-connection.js";

type Command = (...args: Array<string | number>) => Promise<unknown>;

/** ARGV for one script call over `slots` (the keys go first, as the command's keys). */
function scriptArgs(slots: readonly AttemptSlot[], now: number): Array<string | number> {
  const policies = slots.flatMap(({ policy: p, gates }) => [
    p.free,
    p.baseDelayMs,
    p.maxDelayMs,
    p.windowMs,
    (gates ?? []).map((g) => g + 1).join(","),
  ]);
  return [...slots.map((s) => s.key), now, ...policies];
}

/** An AttemptCounter on one Redis or a Redis Cluster; shares the device store's client. */
export class RedisAttemptCounter implements AttemptCounter {
  private readonly defined = new Set<string>();

  constructor(private readonly redis: RedisConnection) {}

  /**
   * The script as a command with a fixed number of keys, defined on first
   * use for each count. Not one command with the count as its first
   * argument: ioredis's Cluster auto-pipelining routes a custom command by
   * its first argument, which must then be a key (else "All keys in the
   * pipeline should belong to the same slots allocation group").
   */
  private command(name: "handoffAttempt" | "handoffForgive", keys: number): Command {
    const full = `${name}${keys}`;
    const client = this.redis.client as unknown as Redis & Record<string, Command>;
    if (!this.defined.has(full)) {
      client.defineCommand(full, {
        numberOfKeys: keys,
        lua: name === "handoffAttempt" ? ATTEMPT : FORGIVE,
      });
      this.defined.add(full);
    }
    return (...args) => (client[full] as Command).apply(client, args);
  }

  async attempt(slots: readonly AttemptSlot[], now: number): Promise<AttemptVerdict> {
    if (slots.length === 0) return { allowed: true };
    const run = this.command("handoffAttempt", slots.length);
    const [ok, wait] = (await this.redis.guard(() => run(...scriptArgs(slots, now)))) as [
      number,
      number,
    ];
    return Number(ok) === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Number(wait) };
  }

  async forgive(slots: readonly AttemptSlot[], now: number): Promise<void> {
    if (slots.length === 0) return;
    const run = this.command("handoffForgive", slots.length);
    await this.redis.guard(() => run(...scriptArgs(slots, now)));
  }
}
