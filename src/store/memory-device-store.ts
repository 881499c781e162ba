/** The embedded, zero-setup device store: one process, same contract as Redis. */

import type { DeviceAuthorization } from "../domain/device-authorization.js";
import type { CodeHandle } from "../domain/device-code.js";
import {
  applyDecision,
  applyPoll,
  type DecideOutcome,
  type Decision,
  type PacingPolicy,
  type PollOutcome,
} from "../domain/transitions.js";
import type { DeviceStore } from "./device-store.js";

const key = (h: CodeHandle) => `${h.tag}:${h.hash}`;

/**
 * Keeps requests in Maps. Node runs each method's body without yielding, so
 * every method is atomic. Expired entries are invisible at once and swept
 * every `sweepMs` so memory stays bounded by live requests.
 */
export class MemoryDeviceStore implements DeviceStore {
  private readonly records = new Map<string, DeviceAuthorization>();
  private readonly userIndex = new Map<string, { deviceKey: string; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 30_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(this.clock()), sweepMs);
    this.sweeper.unref();
  }

  async create(
    device: CodeHandle,
    user: CodeHandle,
    authorization: DeviceAuthorization,
  ): Promise<boolean> {
    const now = this.clock();
    const existing = this.userIndex.get(key(user));
    if (existing && existing.expiresAt > now) return false;
    this.records.set(key(device), authorization);
    this.userIndex.set(key(user), { deviceKey: key(device), expiresAt: authorization.expiresAt });
    return true;
  }

  async poll(
    device: CodeHandle,
    clientId: string,
    now: number,
    pacing: PacingPolicy,
    narrowTo: readonly string[] = [],
  ): Promise<PollOutcome> {
    const k = key(device);
    const { outcome, next } = applyPoll(this.live(k, now), clientId, now, pacing, narrowTo);
    if (next) this.records.set(k, next);
    return outcome;
  }

  async findByUserCode(user: CodeHandle, now: number): Promise<DeviceAuthorization | null> {
    const entry = this.userIndex.get(key(user));
    if (!entry || entry.expiresAt <= now) return null;
    return this.live(entry.deviceKey, now) ?? null;
  }

  async decide(user: CodeHandle, decision: Decision, now: number): Promise<DecideOutcome> {
    const entry = this.userIndex.get(key(user));
    if (!entry || entry.expiresAt <= now) return { kind: "not_found" };
    const { outcome, next } = applyDecision(this.live(entry.deviceKey, now), decision, now);
    if (next) this.records.set(entry.deviceKey, next);
    return outcome;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  /** A record as the TTL would leave it: gone once expired. */
  private live(k: string, now: number): DeviceAuthorization | undefined {
    const r = this.records.get(k);
    if (r && r.expiresAt <= now) {
      this.records.delete(k);
      return undefined;
    }
    return r;
  }

  private sweep(now: number): void {
    for (const [k, r] of this.records) if (r.expiresAt <= now) this.records.delete(k);
    for (const [k, e] of this.userIndex) if (e.expiresAt <= now) this.userIndex.delete(k);
  }
}
