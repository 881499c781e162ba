/** The embedded, zero-setup device store: one process, same contract as Redis. */

import type { DeviceAuthorization } from "../domain/device-authorization.js";
import type { CodeHandle } from "../domain/device-code.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { IndexCursor, IndexPage } from "../domain/ports/creation-index.js";
import type {
  DecideOutcome,
  Decision,
  DeviceStore,
  PacingPolicy,
  PendingEntry,
  PollOutcome,
  RetryPolicy,
} from "../domain/ports/device-store.js";
import { applyConfirm, applyDecision, applyPoll, applyRelease } from "../domain/transitions.js";
import { addToIndex, pageOfIndex } from "./creation-index-page.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

const key = (h: CodeHandle) => `${h.tag}:${h.hash}`;
/** The handle back from a record key (the tag holds no colon). */
function handleOf(k: string): CodeHandle {
  const at = k.indexOf(":");
  return { tag: k.slice(0, at), hash: k.slice(at + 1) };
}

/** How the embedded store bounds itself. */
export interface MemoryDeviceStoreOptions {
  /**
   * Live authorizations held at most; past it a new one is refused as
   * `temporarily_unavailable` (RFC 6749 §5.2, 503), so a flood of device
   * authorizations cannot run the process out of memory.
   */
  readonly maxPending: number;
  /** How often expired entries are dropped, in ms. */
  readonly sweepMs?: number;
  readonly clock?: () => number;
}

/**
 * Keeps requests in TTL maps. Node runs each method's body without yielding,
 * so every method is atomic. Expired entries are invisible at once and dropped
 * by a sweep whose cost is what expired, so memory stays bounded by live requests.
 */
export class MemoryDeviceStore implements DeviceStore {
  private readonly records = new TtlMap<string, DeviceAuthorization>();
  /** User-code handle → device-code key, with the record's expiry. */
  private readonly userIndex = new TtlMap<string, string>();
  /** client → record key → created at: the per-client pending index, pruned on read and on write. */
  private readonly byClient = new Map<string, Map<string, number>>();
  private readonly stopSweeping: () => void;
  private readonly clock: () => number;
  private readonly maxPending: number;

  constructor(options: MemoryDeviceStoreOptions) {
    this.clock = options.clock ?? Date.now;
    this.maxPending = options.maxPending;
    this.stopSweeping = sweepEvery(options.sweepMs ?? 30_000, this.clock, [
      this.records,
      this.userIndex,
    ]);
  }

  async create(
    device: CodeHandle,
    user: CodeHandle,
    authorization: DeviceAuthorization,
  ): Promise<boolean> {
    const now = this.clock();
    if (this.userIndex.get(key(user), now) !== undefined) return false;
    if (this.records.size >= this.maxPending) {
      this.records.sweep(now); // what has expired does not count
      this.userIndex.sweep(now);
      if (this.records.size >= this.maxPending)
        throw new OAuthError(
          "temporarily_unavailable",
          "too many pending authorizations; try again later",
        );
    }
    this.records.set(key(device), authorization, authorization.expiresAt);
    this.userIndex.set(key(user), key(device), authorization.expiresAt);
    addToIndex(
      this.byClient,
      authorization.clientId,
      key(device),
      authorization.createdAt,
      authorization.expiresAt,
    );
    return true;
  }

  async listPendingByClient(
    clientId: string,
    now: number,
    limit: number,
    after?: IndexCursor,
  ): Promise<IndexPage<PendingEntry>> {
    const entries = this.byClient.get(clientId);
    if (entries === undefined) return { items: [] };
    const page = pageOfIndex(entries, limit, after, (k): PendingEntry | undefined => {
      const a = this.records.get(k, now);
      if (a === undefined || a.status !== "pending" || a.clientId !== clientId) return undefined;
      return { device: handleOf(k), authorization: a };
    });
    if (entries.size === 0) this.byClient.delete(clientId);
    return page;
  }

  async decideByDevice(device: CodeHandle, decision: Decision, now: number) {
    const k = key(device);
    const { outcome, next } = applyDecision(this.records.get(k, now), decision, now);
    if (next) this.records.set(k, next, next.expiresAt);
    return outcome;
  }

  async discard(device: CodeHandle, user: CodeHandle): Promise<void> {
    this.records.delete(key(device));
    this.userIndex.delete(key(user));
  }

  async poll(
    device: CodeHandle,
    clientId: string,
    now: number,
    pacing: PacingPolicy,
    narrowTo: readonly string[] = [],
    retry?: RetryPolicy,
  ): Promise<PollOutcome> {
    const k = key(device);
    const state = this.records.get(k, now);
    const { outcome, next } = applyPoll(state, clientId, now, pacing, narrowTo, retry);
    if (next) {
      // A consumption is kept while a retry of it may come, past the code's expiry.
      const until =
        outcome.kind === "issued"
          ? Math.max(next.expiresAt, outcome.issuance.retryUntil)
          : (this.records.expiryOf(k) ?? next.expiresAt);
      this.records.set(k, next, until);
    }
    return outcome;
  }

  async confirm(device: CodeHandle, now: number): Promise<void> {
    this.settle(device, now, applyConfirm);
  }

  async release(device: CodeHandle, now: number): Promise<void> {
    this.settle(device, now, applyRelease);
  }

  private settle(
    device: CodeHandle,
    now: number,
    apply: (s: DeviceAuthorization | undefined) => DeviceAuthorization | undefined,
  ): void {
    const k = key(device);
    const next = apply(this.records.get(k, now));
    if (next) this.records.set(k, next, this.records.expiryOf(k) ?? next.expiresAt);
  }

  async findByUserCode(user: CodeHandle, now: number): Promise<DeviceAuthorization | null> {
    const deviceKey = this.userIndex.get(key(user), now);
    return deviceKey === undefined ? null : (this.records.get(deviceKey, now) ?? null);
  }

  async decide(user: CodeHandle, decision: Decision, now: number): Promise<DecideOutcome> {
    const deviceKey = this.userIndex.get(key(user), now);
    if (deviceKey === undefined) return { kind: "not_found" };
    const { outcome, next } = applyDecision(this.records.get(deviceKey, now), decision, now);
    if (next) this.records.set(deviceKey, next, next.expiresAt);
    return outcome;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.stopSweeping();
  }
}
