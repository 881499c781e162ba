/**
 * The TokenStore contract: one suite, run against every adapter (memory and
 * a real Redis), so the Lua scripts and the pure transitions in
 * src/domain/refresh-family.ts cannot drift apart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RefreshFamily, Rotation, TokenStore } from "../../src/domain/ports/token-store.js";
import { DEFAULT_MAX_PER_SUBJECT } from "../../src/domain/ports/token-store.js";
import {
  hashRefreshToken,
  mintFamilyId,
  mintJti,
  mintRefreshToken,
} from "../../src/domain/refresh-token.js";

const HOUR = 3_600_000;

/**
 * `now` is the logical clock the stores are given. Redis TTLs are absolute
 * (PXAT, real time), so families are created around the real clock and
 * expiry is tested by moving `now` past the logical expiry.
 */
function newFamily(overrides: Partial<RefreshFamily> = {}) {
  const now = Date.now();
  const familyId = mintFamilyId();
  const token = mintRefreshToken(familyId);
  const jti = mintJti(familyId);
  const family: RefreshFamily = {
    clientId: "cli",
    subject: "alice",
    scopes: ["read", "write"],
    resources: ["https://mcp.example.com/"],
    createdAt: now,
    absoluteExpiresAt: now + 24 * HOUR,
    issuedAt: now,
    idleExpiresAt: now + 2 * HOUR,
    currentHash: hashRefreshToken(token),
    rotatedHashes: [],
    accessTokens: [{ jti, expiresAt: now + HOUR }],
    ...overrides,
  };
  return { familyId, token, jti, family, now };
}

function rotation(presented: string, now: number, overrides: Partial<Rotation> = {}) {
  const next = mintRefreshToken(presented.split(".")[0] ?? "");
  const jti = mintJti(presented.split(".")[0]);
  const r: Rotation = {
    presentedHash: hashRefreshToken(presented),
    nextHash: hashRefreshToken(next),
    clientId: "cli",
    now,
    accessToken: { jti, expiresAt: now + HOUR },
    idleTtlMs: 2 * HOUR,
    keepRotated: 1000,
    ...overrides,
  };
  return { next, jti, r };
}

export function tokenStoreContract(
  name: string,
  open: () => Promise<TokenStore>,
  close: () => Promise<void>,
) {
  describe(`TokenStore contract: ${name}`, () => {
    let store: TokenStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await close();
    });

    it("OAuth 2.1 §4.3.1: a refresh swaps the current token for the next and keeps the grant", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const { next, r } = rotation(f.token, f.now + 1000);
      const out = await store.rotate(f.familyId, r);
      expect(out).toEqual({
        kind: "rotated",
        family: {
          clientId: "cli",
          subject: "alice",
          scopes: ["read", "write"],
          resources: ["https://mcp.example.com/"],
          createdAt: f.now,
          absoluteExpiresAt: f.family.absoluteExpiresAt,
          issuedAt: f.now + 1000,
          idleExpiresAt: f.now + 1000 + 2 * HOUR,
        },
      });
      expect(await store.inspect(f.familyId, hashRefreshToken(next), f.now + 2000)).toMatchObject({
        clientId: "cli",
        issuedAt: f.now + 1000,
      });
      expect(await store.inspect(f.familyId, hashRefreshToken(f.token), f.now + 2000)).toBeNull();
    });

    it("OAuth 2.1 §4.3.1: a rotated-out token is reuse: the family and its live access tokens are revoked", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const first = rotation(f.token, f.now + 1000);
      expect((await store.rotate(f.familyId, first.r)).kind).toBe("rotated");
      const replay = rotation(f.token, f.now + 2000);
      const out = await store.rotate(f.familyId, replay.r);
      expect(out.kind).toBe("reused");
      if (out.kind !== "reused") return;
      expect(out.revoked.map((t) => t.jti).sort()).toEqual([f.jti, first.jti].sort());
      expect(await store.isAccessTokenRevoked(f.jti, f.now + 3000)).toBe(true);
      expect(await store.isAccessTokenRevoked(first.jti, f.now + 3000)).toBe(true);
      // The legitimate holder's newest token is dead too.
      expect((await store.rotate(f.familyId, rotation(first.next, f.now + 3000).r)).kind).toBe(
        "unknown",
      );
    });

    it("a token that never belonged to the family is unknown and revokes nothing", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const forged = mintRefreshToken(f.familyId);
      expect((await store.rotate(f.familyId, rotation(forged, f.now + 1).r)).kind).toBe("unknown");
      expect(await store.isAccessTokenRevoked(f.jti, f.now + 2)).toBe(false);
      expect((await store.rotate(f.familyId, rotation(f.token, f.now + 3).r)).kind).toBe("rotated");
    });

    it("OAuth 2.1 §4.3: bound to the client: another client gets wrong_client and the family lives", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const r = rotation(f.token, f.now + 1, { clientId: "someone-else" }).r;
      expect((await store.rotate(f.familyId, r)).kind).toBe("wrong_client");
      expect((await store.rotate(f.familyId, rotation(f.token, f.now + 2).r)).kind).toBe("rotated");
    });

    it("the idle lifetime ends an unused token; rotation renews it", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const late = rotation(f.token, f.family.idleExpiresAt);
      expect((await store.rotate(f.familyId, late.r)).kind).toBe("expired");
      const inTime = rotation(f.token, f.family.idleExpiresAt - 1);
      const out = await store.rotate(f.familyId, inTime.r);
      expect(out.kind === "rotated" && out.family.idleExpiresAt).toBe(
        f.family.idleExpiresAt - 1 + 2 * HOUR,
      );
    });

    it("the absolute lifetime caps the idle one and ends the family however often it rotates", async () => {
      const f = newFamily({ absoluteExpiresAt: Date.now() + 3 * HOUR });
      await store.createFamily(f.familyId, f.family);
      const t1 = f.now + 2 * HOUR - 1;
      const first = rotation(f.token, t1);
      const out = await store.rotate(f.familyId, first.r);
      expect(out.kind === "rotated" && out.family.idleExpiresAt).toBe(f.family.absoluteExpiresAt);
      const after = rotation(first.next, f.family.absoluteExpiresAt);
      expect((await store.rotate(f.familyId, after.r)).kind).toBe("expired");
      expect(
        await store.inspect(f.familyId, hashRefreshToken(first.next), f.family.absoluteExpiresAt),
      ).toBeNull();
    });

    it("exactly one of two concurrent rotations of one token succeeds", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const attempts = Array.from({ length: 8 }, () => rotation(f.token, f.now + 1).r);
      const outcomes = await Promise.all(attempts.map((r) => store.rotate(f.familyId, r)));
      const kinds = outcomes.map((o) => o.kind).sort();
      expect(kinds.filter((k) => k === "rotated")).toHaveLength(1);
      // The first loser finds the token rotated out (reuse); later ones find the family gone.
      expect(kinds).toContain("reused");
      expect(kinds.filter((k) => k !== "rotated" && k !== "reused" && k !== "unknown")).toEqual([]);
    });

    it("reuse detection remembers the last keepRotated tokens (the window is a limit)", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      let current = f.token;
      const old: string[] = [];
      for (let i = 0; i < 4; i++) {
        const step = rotation(current, f.now + i + 1, { keepRotated: 2 });
        expect((await store.rotate(f.familyId, step.r)).kind).toBe("rotated");
        old.push(current);
        current = step.next;
      }
      // old[0] and old[1] fell out of the window: unknown, the family survives.
      expect((await store.rotate(f.familyId, rotation(old[0] ?? "", f.now + 10).r)).kind).toBe(
        "unknown",
      );
      // old[3] is within it: reuse.
      expect((await store.rotate(f.familyId, rotation(old[3] ?? "", f.now + 11).r)).kind).toBe(
        "reused",
      );
    });

    it("created with onceUntil, a family id is written once: a second create neither resets a rotation nor revives a revocation (docs/failure.md)", async () => {
      const f = newFamily();
      const onceUntil = Date.now() + 60_000;
      await store.createFamily(f.familyId, f.family, { onceUntil });
      const first = rotation(f.token, f.now + 1);
      expect((await store.rotate(f.familyId, first.r)).kind).toBe("rotated");
      await store.createFamily(f.familyId, f.family, { onceUntil });
      // Not reset: the first token is still rotated out.
      expect(await store.inspect(f.familyId, hashRefreshToken(f.token), f.now + 2)).toBeNull();
      expect(
        await store.inspect(f.familyId, hashRefreshToken(first.next), f.now + 2),
      ).not.toBeNull();

      await store.revokeFamily(f.familyId, hashRefreshToken(first.next), "cli", f.now + 3);
      await store.createFamily(f.familyId, f.family, { onceUntil });
      // Not revived.
      expect(await store.inspect(f.familyId, hashRefreshToken(f.token), f.now + 4)).toBeNull();
      expect((await store.rotate(f.familyId, rotation(f.token, f.now + 5).r)).kind).toBe("unknown");
    });

    it("RFC 7009 §2.1: revoking by any token of the family revokes it and its access tokens", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const first = rotation(f.token, f.now + 1);
      await store.rotate(f.familyId, first.r);
      const out = await store.revokeFamily(f.familyId, hashRefreshToken(f.token), "cli", f.now + 2);
      expect(out.kind).toBe("revoked");
      expect(await store.isAccessTokenRevoked(first.jti, f.now + 3)).toBe(true);
      expect(await store.inspect(f.familyId, hashRefreshToken(first.next), f.now + 3)).toBeNull();
      expect(
        (await store.revokeFamily(f.familyId, hashRefreshToken(first.next), "cli", f.now + 4)).kind,
      ).toBe("not_found");
    });

    it("RFC 7009 §2.1: another client cannot revoke the family; a service (no client) can", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const hash = hashRefreshToken(f.token);
      expect((await store.revokeFamily(f.familyId, hash, "other", f.now + 1)).kind).toBe(
        "wrong_client",
      );
      expect(await store.inspect(f.familyId, hash, f.now + 2)).not.toBeNull();
      expect((await store.revokeFamily(f.familyId, hash, undefined, f.now + 3)).kind).toBe(
        "revoked",
      );
    });

    it("a forged token of a real family revokes nothing", async () => {
      const f = newFamily();
      await store.createFamily(f.familyId, f.family);
      const forged = hashRefreshToken(mintRefreshToken(f.familyId));
      expect((await store.revokeFamily(f.familyId, forged, undefined, f.now + 1)).kind).toBe(
        "not_found",
      );
      expect(await store.inspect(f.familyId, hashRefreshToken(f.token), f.now + 2)).not.toBeNull();
    });

    it("RFC 7009 §2.1: a revoked jti stays revoked until the token would have expired", async () => {
      const jti = mintJti();
      const now = Date.now();
      await store.revokeAccessToken({ jti, expiresAt: now + HOUR });
      expect(await store.isAccessTokenRevoked(jti, now + HOUR - 1)).toBe(true);
      expect(await store.isAccessTokenRevoked(jti, now + HOUR)).toBe(false);
      expect(await store.isAccessTokenRevoked(mintJti(), now)).toBe(false);
    });

    it("revocation marks vanish with the token's expiry (bounded storage)", async () => {
      const jti = mintJti();
      await store.revokeAccessToken({ jti, expiresAt: Date.now() + 150 });
      await new Promise((r) => setTimeout(r, 300));
      // With the real clock: a store keeps nothing for an expired token.
      expect(await store.isAccessTokenRevoked(jti, 0)).toBe(false);
    });

    it("lists a subject's live families newest first, with what the page shows", async () => {
      const subject = `s-${mintFamilyId()}`;
      const a = newFamily({ subject });
      const b = newFamily({ subject, clientId: "cli-b", createdAt: a.now + 1 });
      const other = newFamily({ subject: `${subject}-other` });
      await store.createFamily(a.familyId, a.family);
      await store.createFamily(b.familyId, b.family);
      await store.createFamily(other.familyId, other.family);
      const listed = await store.listBySubject(subject, a.now + 10, 10);
      expect(listed.map((g) => g.familyId)).toEqual([b.familyId, a.familyId]);
      expect(listed[1]).toEqual({
        familyId: a.familyId,
        clientId: "cli",
        subject,
        scopes: ["read", "write"],
        resources: ["https://mcp.example.com/"],
        createdAt: a.family.createdAt,
        absoluteExpiresAt: a.family.absoluteExpiresAt,
        issuedAt: a.family.issuedAt,
        idleExpiresAt: a.family.idleExpiresAt,
      });
      expect(await store.listBySubject(subject, a.now + 10, 1)).toHaveLength(1);
      // A refresh shows as the last refresh time (issuedAt after createdAt).
      const { r } = rotation(a.token, a.now + 5000);
      await store.rotate(a.familyId, r);
      const after = await store.listBySubject(subject, a.now + 6000, 10);
      expect(after.find((g) => g.familyId === a.familyId)?.issuedAt).toBe(a.now + 5000);
    });

    it("keeps the grant's origin with the family: listed by subject and client, through a refresh; a family without one still lists and refreshes", async () => {
      const subject = `s-${mintFamilyId()}`;
      const clientId = `c-${mintFamilyId()}`;
      const origin = {
        requesterAddress: "203.0.113.7",
        requesterUserAgent: "curl/8.5.0 <b>\uFFFD",
        approverAddress: "2001:db8::1",
      };
      const withOrigin = newFamily({ subject, clientId, origin });
      const partial = newFamily({
        subject,
        clientId,
        createdAt: withOrigin.now + 1,
        origin: { requesterAddress: "198.51.100.2", requesterUserAgent: "" },
      });
      // As the previous version wrote it: no origin at all.
      const none = newFamily({ subject, clientId, createdAt: withOrigin.now + 2 });
      for (const f of [withOrigin, partial, none]) await store.createFamily(f.familyId, f.family);
      const listed = await store.listBySubject(subject, withOrigin.now + 10, 10);
      expect(listed.map((g) => g.familyId)).toEqual([
        none.familyId,
        partial.familyId,
        withOrigin.familyId,
      ]);
      expect(listed[2]?.origin).toEqual(origin);
      expect(listed[1]?.origin).toEqual({
        requesterAddress: "198.51.100.2",
        requesterUserAgent: "",
      });
      expect(listed[0]).not.toHaveProperty("origin");
      const byClient = await store.listByClient(clientId, withOrigin.now + 10, 10);
      expect(byClient.items.find((g) => g.familyId === withOrigin.familyId)?.origin).toEqual(
        origin,
      );
      for (const f of [withOrigin, none]) {
        const { r } = rotation(f.token, f.now + 1000, { clientId });
        const out = await store.rotate(f.familyId, r);
        expect(out.kind).toBe("rotated");
        if (out.kind === "rotated") expect(out.family.origin).toEqual(f.family.origin);
      }
      const after = await store.listBySubject(subject, withOrigin.now + 2000, 10);
      expect(after.find((g) => g.familyId === withOrigin.familyId)).toMatchObject({
        issuedAt: withOrigin.now + 1000,
        origin,
      });
      expect(after.find((g) => g.familyId === none.familyId)).not.toHaveProperty("origin");
    });

    it("skips and prunes entries whose family expired or was revoked", async () => {
      const subject = `s-${mintFamilyId()}`;
      const live = newFamily({ subject });
      const revoked = newFamily({ subject });
      const short = newFamily({ subject, idleExpiresAt: Date.now() + 60_000 });
      for (const f of [live, revoked, short]) await store.createFamily(f.familyId, f.family);
      await store.revokeFamily(
        revoked.familyId,
        hashRefreshToken(revoked.token),
        undefined,
        live.now,
      );
      // `short` is past its idle expiry at this logical time, `live` is not.
      const at = live.now + 120_000;
      expect((await store.listBySubject(subject, at, 10)).map((g) => g.familyId)).toEqual([
        live.familyId,
      ]);
      expect((await store.listBySubject(subject, at, 10)).map((g) => g.familyId)).toEqual([
        live.familyId,
      ]);
    });

    it("keeps only the newest families per subject in its index (the bound)", async () => {
      const subject = `s-${mintFamilyId()}`;
      const base = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < DEFAULT_MAX_PER_SUBJECT + 2; i++) {
        const f = newFamily({ subject, createdAt: base + i });
        ids.push(f.familyId);
        await store.createFamily(f.familyId, f.family);
      }
      const listed = await store.listBySubject(subject, base + 100, 1000);
      expect(listed).toHaveLength(DEFAULT_MAX_PER_SUBJECT);
      expect(listed.map((g) => g.familyId)).toEqual(ids.slice(2).reverse());
    });

    it("the owner's Disconnect revokes the family and its access tokens; another subject's id changes nothing", async () => {
      const subject = `s-${mintFamilyId()}`;
      const f = newFamily({ subject });
      await store.createFamily(f.familyId, f.family);
      expect(await store.revokeFamilyOfSubject(f.familyId, `${subject}-bob`, f.now + 1)).toEqual({
        kind: "not_found",
      });
      expect(await store.isAccessTokenRevoked(f.jti, f.now + 1)).toBe(false);
      expect(await store.inspect(f.familyId, hashRefreshToken(f.token), f.now + 1)).not.toBeNull();
      expect(await store.revokeFamilyOfSubject(f.familyId, subject, f.now + 1)).toEqual({
        kind: "revoked",
        clientId: f.family.clientId,
        revoked: [{ jti: f.jti, expiresAt: f.family.accessTokens[0]?.expiresAt }],
      });
      expect(await store.isAccessTokenRevoked(f.jti, f.now + 2)).toBe(true);
      const { r } = rotation(f.token, f.now + 2);
      expect((await store.rotate(f.familyId, r)).kind).toBe("unknown");
      expect(await store.listBySubject(subject, f.now + 2, 10)).toEqual([]);
      expect(await store.revokeFamilyOfSubject(f.familyId, subject, f.now + 3)).toEqual({
        kind: "not_found",
      });
    });

    it("lists a client's live families newest first, in pages, skipping and pruning dead ones", async () => {
      const clientId = `c-${mintFamilyId()}`;
      const base = Date.now();
      const made = [];
      for (let n = 0; n < 5; n++) {
        const f = newFamily({ clientId, subject: `s${n}`, createdAt: base + n });
        await store.createFamily(f.familyId, f.family);
        made.push(f);
      }
      const expired = newFamily({ clientId, createdAt: base + 5, idleExpiresAt: base + 50 });
      await store.createFamily(expired.familyId, expired.family);
      const [, revoked] = made;
      expect(
        (
          await store.revokeFamily(
            revoked?.familyId ?? "",
            revoked?.family.currentHash ?? "",
            undefined,
            base + 100,
          )
        ).kind,
      ).toBe("revoked");
      const other = newFamily({ clientId: `${clientId}-other`, createdAt: base + 6 });
      await store.createFamily(other.familyId, other.family);

      const ids: string[] = [];
      let after: import("../../src/domain/ports/creation-index.js").IndexCursor | undefined;
      let pages = 0;
      do {
        const page = await store.listByClient(clientId, base + 100, 2, after);
        expect(page.items.length).toBeLessThanOrEqual(2);
        for (const g of page.items) expect(g.clientId).toBe(clientId);
        ids.push(...page.items.map((g) => g.familyId));
        after = page.next;
        pages++;
      } while (after !== undefined && pages < 10);
      const live = [made[4], made[3], made[2], made[0]].map((f) => f?.familyId);
      expect(ids).toEqual(live);
      expect(pages).toBe(2);
      const first = (await store.listByClient(clientId, base + 100, 10)).items[0];
      expect(first).toMatchObject({
        familyId: made[4]?.familyId,
        subject: "s4",
        scopes: ["read", "write"],
      });
      expect(await store.listByClient(`${clientId}-none`, base, 10)).toEqual({ items: [] });
    });

    it("an operator revokes a family by id alone: its access tokens too, and it leaves both listings", async () => {
      const clientId = `c-${mintFamilyId()}`;
      const subject = `s-${mintFamilyId()}`;
      const f = newFamily({ clientId, subject });
      await store.createFamily(f.familyId, f.family);
      expect(await store.revokeFamilyById(f.familyId, f.now + 1)).toEqual({
        kind: "revoked",
        clientId,
        subject,
        revoked: [{ jti: f.jti, expiresAt: f.family.accessTokens[0]?.expiresAt }],
      });
      expect(await store.isAccessTokenRevoked(f.jti, f.now + 2)).toBe(true);
      expect(await store.inspect(f.familyId, f.family.currentHash, f.now + 2)).toBeNull();
      expect(await store.listBySubject(subject, f.now + 2, 10)).toEqual([]);
      expect((await store.listByClient(clientId, f.now + 2, 10)).items).toEqual([]);
      expect(await store.revokeFamilyById(f.familyId, f.now + 3)).toEqual({ kind: "not_found" });
      expect(await store.revokeFamilyById(mintFamilyId(), f.now + 3)).toEqual({
        kind: "not_found",
      });
      const gone = newFamily({ idleExpiresAt: Date.now() + 10 });
      await store.createFamily(gone.familyId, gone.family);
      expect(await store.revokeFamilyById(gone.familyId, gone.now + 20)).toEqual({
        kind: "not_found",
      });
    });
  });
}
