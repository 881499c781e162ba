/** The Redis attempt counter: every instance shares the counters; each step is one Lua script. */
import type {
  AttemptCounter,
  AttemptSlot,
  AttemptVerdict,
} from "../domain/ports/attempt-counter.js";
import { ATTEMPT, FORGIVE } from "./attempt-counter-scripts.js";
import type { RedisConnection } from "./redis-connection.js";

interface CounterCommands {
  handoffAttempt(numKeys: number, ...args: Array<string | number>): Promise<[number, number]>;
  handoffForgive(numKeys: number, ...args: Array<string | number>): Promise<number>;
}

/** KEYS then ARGV for one script call over `slots`. */
function scriptArgs(slots: readonly AttemptSlot[], now: number): Array<string | number> {
  const policies = slots.flatMap(({ policy: p }) => [
    p.free,
    p.baseDelayMs,
    p.maxDelayMs,
    p.windowMs,
  ]);
  return [slots.length, ...slots.map((s) => s.key), now, ...policies];
}

/** An AttemptCounter on one Redis or a Redis Cluster; shares the device store's client. */
export class RedisAttemptCounter implements AttemptCounter {
  private readonly cmd: CounterCommands;

  constructor(private readonly redis: RedisConnection) {
    const { client } = redis;
    // numberOfKeys is given per call: a call charges one to four counters.
    client.defineCommand("handoffAttempt", { lua: ATTEMPT });
    client.defineCommand("handoffForgive", { lua: FORGIVE });
    this.cmd = client as unknown as CounterCommands;
  }

  async attempt(slots: readonly AttemptSlot[], now: number): Promise<AttemptVerdict> {
    if (slots.length === 0) return { allowed: true };
    const [numKeys, ...rest] = scriptArgs(slots, now) as [number, ...Array<string | number>];
    const [ok, wait] = await this.redis.guard(() => this.cmd.handoffAttempt(numKeys, ...rest));
    return Number(ok) === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Number(wait) };
  }

  async forgive(slots: readonly AttemptSlot[], now: number): Promise<void> {
    if (slots.length === 0) return;
    const [numKeys, ...rest] = scriptArgs(slots, now) as [number, ...Array<string | number>];
    await this.redis.guard(() => this.cmd.handoffForgive(numKeys, ...rest));
  }
}
