/** The Redis attempt counter: every instance shares the counters; each step is one Lua script. */
import type {
  AttemptCounter,
  AttemptSlot,
  AttemptVerdict,
  CheckLease,
  LostEnd,
} from "../domain/ports/attempt-counter.js";
import { ATTEMPT, BEGIN_CHECK, END_CHECK, FORGIVE } from "./attempt-counter-scripts.js";
import { LuaScript } from "./lua-script.js";
import type { RedisConnection } from "./redis-connection.js";

type Command = (...args: Array<string | number>) => Promise<unknown>;

const SCRIPTS = {
  handoffAttempt: new LuaScript(ATTEMPT),
  handoffForgive: new LuaScript(FORGIVE),
  handoffBeginCheck: new LuaScript(BEGIN_CHECK),
  handoffEndCheck: new LuaScript(END_CHECK),
} as const;

/**
 * The key of a slot's checks in flight: beside its counter, in the same
 * hash slot (the counter key's `{…}` tag comes first).
 */
export const checksKey = (slot: AttemptSlot): string => `${slot.key}:checks`;

/** The keys, then ARGV, of one script call over `slots`. */
function scriptArgs(slots: readonly AttemptSlot[], now: number): Array<string | number> {
  const args: Array<string | number> = slots.map((s) => s.key);
  args.push(...counterArgv(slots, now));
  return args;
}

/**
 * ARGV of the counters' part of a script (attempt-counter-scripts.ts): now
 * ms, then per slot its policy and gates.
 */
export function counterArgv(slots: readonly AttemptSlot[], now: number): Array<string | number> {
  const args: Array<string | number> = [now];
  for (const { policy: p, gates } of slots) {
    const g = gates === undefined ? "" : gates.map((i) => i + 1).join(",");
    args.push(p.free, p.baseDelayMs, p.maxDelayMs, p.windowMs, g);
  }
  return args;
}

/**
 * The most keys one script call takes (a user-code or sign-in check: three
 * counters and their three sets of checks in flight); more is a programming error.
 */
export const MAX_SLOTS_PER_STEP = 8;

/** An AttemptCounter on one Redis or a Redis Cluster; shares the device store's client. */
export class RedisAttemptCounter implements AttemptCounter {
  constructor(private readonly redis: RedisConnection) {}

  /** A script with `keys` keys (any count: EVALSHA takes it per call, lua-script.ts). */
  private command(name: keyof typeof SCRIPTS, keys: number): Command {
    if (keys > MAX_SLOTS_PER_STEP) {
      throw new Error(`${keys} keys in one attempt-counter script; at most ${MAX_SLOTS_PER_STEP}`);
    }
    return (...args) => SCRIPTS[name].run(this.redis.client, keys, args);
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

  async beginCheck(
    slots: readonly AttemptSlot[],
    lease: CheckLease,
    now: number,
    lost: readonly LostEnd[] = [],
  ): Promise<AttemptVerdict> {
    const run = this.command("handoffBeginCheck", 2 * slots.length);
    const ends = lost.flatMap((e) => [e.id, e.failed ? "1" : "0"]);
    const [ok, wait] = (await this.redis.guard(() =>
      run(...checkArgs(slots, now), lease.id, lease.ms, ...ends),
    )) as [number, number];
    return Number(ok) === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Number(wait) };
  }

  async endCheck(
    slots: readonly AttemptSlot[],
    leaseId: string,
    failed: boolean,
    now: number,
  ): Promise<void> {
    const run = this.command("handoffEndCheck", 2 * slots.length);
    await this.redis.guard(() => run(...checkArgs(slots, now), leaseId, failed ? "1" : "0"));
  }
}

/**
 * The counters, then their checks keys (one script step over all of them:
 * the keys of one kind share a `{…}` hash tag, as `attempt`'s do, so one
 * Cluster slot), then ARGV as for `attempt`.
 */
function checkArgs(slots: readonly AttemptSlot[], now: number): Array<string | number> {
  const args = scriptArgs(slots, now);
  args.splice(slots.length, 0, ...slots.map(checksKey));
  return args;
}
