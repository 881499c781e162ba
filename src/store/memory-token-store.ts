/** The embedded token store: one process, same contract as Redis. */

import type { IndexCursor, IndexPage } from "../domain/ports/creation-index.js";
import {
  type ConnectedGrant,
  DEFAULT_MAX_PER_SUBJECT,
  type IssuedAccessToken,
  type OperatorRevokeOutcome,
  type RefreshFamily,
  type RevokeOutcome,
  type RotateOutcome,
  type Rotation,
  type TokenStore,
} from "../domain/ports/token-store.js";
import {
  applyOperatorRevocation,
  applyOwnerRevocation,
  applyRevocation,
  applyRotation,
  grantOf,
  inspectFamily,
  type Transition,
} from "../domain/refresh-family.js";
import { addToIndex, pageOfIndex } from "./creation-index-page.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/** When a family stops working: at its idle or its absolute expiry, whichever comes first. */
const endOf = (f: RefreshFamily) => Math.min(f.idleExpiresAt, f.absoluteExpiresAt);

/**
 * Keeps families and revoked ids in TTL maps. Node runs each method's body
 * without yielding, so every method is atomic. Expired entries are dropped
 * every `sweepMs`, so memory stays bounded by live tokens.
 */
export class MemoryTokenStore implements TokenStore {
  /** An expired family also leaves both indexes (they would only be pruned on read otherwise). */
  private readonly families = new TtlMap<string, RefreshFamily>((familyId, f) =>
    this.unindex(familyId, f),
  );
  /** Revoked access-token ids, kept until the token would have expired anyway. */
  private readonly revokedJtis = new TtlMap<string, number>();
  /** Family ids created with `onceUntil`, until then (see TokenStore.createFamily). */
  private readonly created = new TtlMap<string, true>();
  /** subject → family id → created at: the per-subject index, pruned on read. */
  private readonly bySubject = new Map<string, Map<string, number>>();
  /** client → family id → created at: the per-client index, pruned on read and on write. */
  private readonly byClient = new Map<string, Map<string, number>>();
  private readonly stopSweeping: () => void;

  constructor(
    private readonly clock: () => number = Date.now,
    sweepMs = 30_000,
    /** How many families the per-subject index keeps (oldest dropped from the index). */
    private readonly maxPerSubject = DEFAULT_MAX_PER_SUBJECT,
  ) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.families, this.revokedJtis, this.created]);
  }

  async createFamily(
    familyId: string,
    family: RefreshFamily,
    options: { readonly onceUntil?: number } = {},
  ): Promise<void> {
    const { onceUntil } = options;
    if (onceUntil !== undefined) {
      if (this.created.get(familyId, this.clock()) !== undefined) return;
      this.created.set(familyId, true, onceUntil);
    }
    this.families.set(familyId, family, endOf(family));
    this.index(family.subject, familyId, family.createdAt);
    addToIndex(this.byClient, family.clientId, familyId, family.createdAt, endOf(family));
  }

  async listByClient(
    clientId: string,
    now: number,
    limit: number,
    after?: IndexCursor,
  ): Promise<IndexPage<ConnectedGrant>> {
    const entries = this.byClient.get(clientId);
    if (entries === undefined) return { items: [] };
    const page = pageOfIndex(entries, limit, after, (familyId) => {
      const f = this.families.get(familyId, this.clock());
      if (f === undefined || f.clientId !== clientId || endOf(f) <= now) return undefined;
      return { familyId, ...grantOf(f) };
    });
    if (entries.size === 0) this.byClient.delete(clientId);
    return page;
  }

  async revokeFamilyById(familyId: string, now: number): Promise<OperatorRevokeOutcome> {
    const state = this.families.get(familyId, this.clock());
    const t = applyOperatorRevocation(state, now);
    this.commit(familyId, t);
    if (t.outcome.kind === "revoked" && state !== undefined) {
      this.markRevoked(t.outcome.revoked);
      this.bySubject.get(state.subject)?.delete(familyId);
      this.byClient.get(state.clientId)?.delete(familyId);
    }
    return t.outcome;
  }

  async listBySubject(subject: string, now: number, limit: number): Promise<ConnectedGrant[]> {
    const entries = this.bySubject.get(subject);
    if (entries === undefined) return [];
    const out: ConnectedGrant[] = [];
    const newestFirst = [...entries].sort((a, b) => b[1] - a[1]);
    for (const [familyId] of newestFirst) {
      const f = this.families.get(familyId, this.clock());
      if (f === undefined || f.subject !== subject || endOf(f) <= now) {
        entries.delete(familyId);
        continue;
      }
      if (out.length < limit) out.push({ familyId, ...grantOf(f) });
    }
    if (entries.size === 0) this.bySubject.delete(subject);
    return out;
  }

  async revokeFamilyOfSubject(familyId: string, subject: string, now: number) {
    const t = applyOwnerRevocation(this.families.get(familyId, this.clock()), subject, now);
    this.commit(familyId, t);
    if (t.outcome.kind === "revoked") {
      this.markRevoked(t.outcome.revoked);
      this.bySubject.get(subject)?.delete(familyId);
    }
    return t.outcome;
  }

  async rotate(familyId: string, rotation: Rotation): Promise<RotateOutcome> {
    const t = applyRotation(this.families.get(familyId, this.clock()), rotation);
    this.commit(familyId, t);
    if (t.outcome.kind === "reused") this.markRevoked(t.outcome.revoked);
    return t.outcome;
  }

  async revokeFamily(
    familyId: string,
    presentedHash: string,
    clientId: string | undefined,
    now: number,
  ): Promise<RevokeOutcome> {
    const t = applyRevocation(
      this.families.get(familyId, this.clock()),
      presentedHash,
      clientId,
      now,
    );
    this.commit(familyId, t);
    if (t.outcome.kind === "revoked") this.markRevoked(t.outcome.revoked);
    return t.outcome;
  }

  async inspect(familyId: string, presentedHash: string, now: number) {
    return inspectFamily(this.families.get(familyId, this.clock()), presentedHash, now);
  }

  async revokeAccessToken(token: IssuedAccessToken): Promise<void> {
    this.markRevoked([token]);
  }

  async isAccessTokenRevoked(jti: string, now: number): Promise<boolean> {
    // The map expires by the wall clock, as Redis does; the caller's `now` decides.
    const until = this.revokedJtis.get(jti, this.clock());
    return until !== undefined && until > now;
  }

  async close(): Promise<void> {
    this.stopSweeping();
  }

  /** How many entries the per-subject and per-client indexes hold (what memory keeps for them). */
  get indexedEntries(): { readonly bySubject: number; readonly byClient: number } {
    let bySubject = 0;
    let byClient = 0;
    for (const m of this.bySubject.values()) bySubject += m.size;
    for (const m of this.byClient.values()) byClient += m.size;
    return { bySubject, byClient };
  }

  private commit(familyId: string, t: Transition<unknown>): void {
    if (t.next === null) {
      const f = this.families.get(familyId, this.clock());
      this.families.delete(familyId);
      if (f !== undefined) this.unindex(familyId, f);
    } else if (t.next !== undefined) this.families.set(familyId, t.next, endOf(t.next));
  }

  /** Drops a family that ended (expired, revoked, reused) from both indexes, and emptied maps. */
  private unindex(familyId: string, f: RefreshFamily): void {
    for (const [index, key] of [
      [this.bySubject, f.subject],
      [this.byClient, f.clientId],
    ] as const) {
      const entries = index.get(key);
      if (entries === undefined) continue;
      entries.delete(familyId);
      if (entries.size === 0) index.delete(key);
    }
  }

  /** Adds to the subject's index, dropping its oldest entries past `maxPerSubject`. */
  private index(subject: string, familyId: string, createdAt: number): void {
    const entries = this.bySubject.get(subject) ?? new Map<string, number>();
    this.bySubject.set(subject, entries);
    entries.set(familyId, createdAt);
    if (entries.size <= this.maxPerSubject) return;
    const oldestFirst = [...entries].sort((a, b) => a[1] - b[1]);
    for (const [id] of oldestFirst.slice(0, entries.size - this.maxPerSubject)) entries.delete(id);
  }

  private markRevoked(tokens: readonly IssuedAccessToken[]): void {
    for (const t of tokens) this.revokedJtis.set(t.jti, t.expiresAt, t.expiresAt);
  }
}
