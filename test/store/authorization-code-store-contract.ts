/**
 * The AuthorizationCodeStore contract: one suite for every adapter (memory,
 * Redis, Redis Cluster), so the Lua scripts and the pure transitions in
 * src/domain/authorization-code.ts cannot drift apart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthorizationCodeRecord,
  authorizationCodeHandle,
  mintAuthorizationCode,
  type Redemption,
} from "../../src/domain/authorization-code.js";
import { s256ChallengeOf } from "../../src/domain/pkce.js";
import type { AuthorizationCodeStore } from "../../src/domain/ports/authorization-code-store.js";

const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
// RFC 7636 Appendix B: the challenge of that verifier.
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/** A fresh code with its record; times in the real near future (Redis TTLs are absolute). */
function newCode(overrides: Partial<AuthorizationCodeRecord> = {}) {
  const now = Date.now();
  const record: AuthorizationCodeRecord = {
    clientId: "app",
    redirectUri: "http://127.0.0.1:51234/callback",
    codeChallenge: CHALLENGE,
    scopes: ["read", "write"],
    resources: ["https://mcp.example.com/mcp", "https://other.example.com/"],
    subject: "alice",
    createdAt: now,
    expiresAt: now + 60_000,
    status: "issued",
    issuedTokens: "",
    replayed: false,
    ...overrides,
  };
  const handle = authorizationCodeHandle(mintAuthorizationCode());
  if (handle === null) throw new Error("unparseable code");
  return { handle, record };
}

function redemption(overrides: Partial<Redemption> = {}): Redemption {
  const now = Date.now();
  return {
    clientId: "app",
    redirectUri: "http://127.0.0.1:51234/callback",
    challenge: s256ChallengeOf(VERIFIER),
    narrowTo: [],
    now,
    retainUntil: now + 3_600_000,
    ...overrides,
  };
}

export function authorizationCodeStoreContract(
  name: string,
  open: () => Promise<AuthorizationCodeStore>,
  close: () => Promise<void>,
) {
  describe(`AuthorizationCodeStore contract: ${name}`, () => {
    let store: AuthorizationCodeStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await close();
    });

    it("the S256 challenge is RFC 7636 Appendix B's", () => {
      expect(s256ChallengeOf(VERIFIER)).toBe(CHALLENGE);
    });

    it("redeems a code once, with its grant (RFC 6749 §4.1.3)", async () => {
      const c = newCode();
      expect(await store.create(c.handle, c.record)).toBe(true);
      const r = redemption();
      expect(await store.redeem(c.handle, r)).toEqual({
        kind: "redeemed",
        grant: {
          clientId: "app",
          subject: "alice",
          scopes: ["read", "write"],
          resources: ["https://mcp.example.com/mcp", "https://other.example.com/"],
        },
        // No retry policy: no retry window.
        issuance: { nonce: "", issuedAt: r.now, retryUntil: r.now },
      });
      expect(await store.attach(c.handle, "tokens-1", Date.now())).toEqual({ kind: "attached" });
      // §4.1.2: a second redemption is refused and names what to revoke.
      expect(await store.redeem(c.handle, redemption())).toEqual({
        kind: "replayed",
        issuedTokens: "tokens-1",
      });
    });

    it("gives the approver's address with the grant, redeemed and reissued; none when the record has none", async () => {
      const retry = { windowMs: 60_000, leaseMs: 1000 };
      const c = newCode({ approverAddress: "198.51.100.9", issuanceNonce: "nonce-a" });
      expect(await store.create(c.handle, c.record)).toBe(true);
      const first = redemption({ retry });
      const outcome = await store.redeem(c.handle, first);
      expect(outcome).toMatchObject({ kind: "redeemed", approverAddress: "198.51.100.9" });
      await store.release(c.handle, first.now);
      expect(await store.redeem(c.handle, { ...first, now: first.now + 1 })).toEqual({
        ...outcome,
        kind: "reissued",
      });
      const without = newCode();
      await store.create(without.handle, without.record);
      const plain = await store.redeem(without.handle, redemption());
      expect(plain.kind).toBe("redeemed");
      expect(plain).not.toHaveProperty("approverAddress");
    });

    it("refuses to create over an existing code", async () => {
      const c = newCode();
      expect(await store.create(c.handle, c.record)).toBe(true);
      expect(await store.create(c.handle, { ...c.record, clientId: "evil" })).toBe(false);
      expect((await store.redeem(c.handle, redemption())).kind).toBe("redeemed");
    });

    it("an unknown code is unknown", async () => {
      expect(await store.redeem(newCode().handle, redemption())).toEqual({ kind: "unknown" });
    });

    it("a wrong verifier, redirect URI, client or resource spends nothing (RFC 7636 §4.6)", async () => {
      const c = newCode();
      await store.create(c.handle, c.record);
      const wrong: Array<[Partial<Redemption>, string]> = [
        [{ challenge: s256ChallengeOf(`${VERIFIER}x`) }, "verifier_mismatch"],
        [{ challenge: "" }, "verifier_mismatch"],
        [{ challenge: CHALLENGE.replace("E9", "e9") }, "verifier_mismatch"],
        [{ redirectUri: "http://127.0.0.1:51235/callback" }, "redirect_mismatch"],
        [{ redirectUri: "" }, "redirect_mismatch"],
        [{ clientId: "other" }, "wrong_client"],
        [{ narrowTo: ["https://mcp.example.com/mcp", "https://evil.example/"] }, "invalid_target"],
      ];
      for (const [overrides, kind] of wrong) {
        expect(await store.redeem(c.handle, redemption(overrides)), kind).toEqual({ kind });
      }
      // After all that, the rightful redemption still works.
      const ok = await store.redeem(
        c.handle,
        redemption({ narrowTo: ["https://mcp.example.com/mcp"] }),
      );
      expect(ok.kind).toBe("redeemed");
    });

    it("a code omitted redirect_uri must be redeemed without one", async () => {
      const c = newCode({ redirectUri: "" });
      await store.create(c.handle, c.record);
      expect((await store.redeem(c.handle, redemption())).kind).toBe("redirect_mismatch");
      expect((await store.redeem(c.handle, redemption({ redirectUri: "" }))).kind).toBe("redeemed");
    });

    it("a code at the end of its life is refused (expired, or already gone)", async () => {
      const c = newCode();
      await store.create(c.handle, c.record);
      const late = redemption({ now: c.record.expiresAt });
      expect(["expired", "unknown"]).toContain((await store.redeem(c.handle, late)).kind);
    });

    it("the record is gone when its life ends", async () => {
      const c = newCode({ expiresAt: Date.now() + 150 });
      await store.create(c.handle, c.record);
      await new Promise((r) => setTimeout(r, 300));
      expect(await store.redeem(c.handle, redemption())).toEqual({ kind: "unknown" });
    });

    it("a redeemed code is remembered past its life, until retainUntil, to recognise a replay", async () => {
      const c = newCode({ expiresAt: Date.now() + 150 });
      await store.create(c.handle, c.record);
      expect((await store.redeem(c.handle, redemption())).kind).toBe("redeemed");
      await new Promise((r) => setTimeout(r, 300));
      expect(await store.redeem(c.handle, redemption())).toEqual({
        kind: "replayed",
        issuedTokens: "",
      });
    });

    it("a replay before attach marks the record, and attach then says replayed", async () => {
      const c = newCode();
      await store.create(c.handle, c.record);
      expect((await store.redeem(c.handle, redemption())).kind).toBe("redeemed");
      // Replayed by the same client, even with a wrong verifier: the code was used twice.
      expect(await store.redeem(c.handle, redemption({ challenge: "" }))).toEqual({
        kind: "replayed",
        issuedTokens: "",
      });
      expect(await store.attach(c.handle, "tokens-2", Date.now())).toEqual({ kind: "replayed" });
    });

    it("another client presenting a redeemed code is wrong_client, not a replay", async () => {
      const c = newCode();
      await store.create(c.handle, c.record);
      await store.redeem(c.handle, redemption());
      expect(await store.redeem(c.handle, redemption({ clientId: "other" }))).toEqual({
        kind: "wrong_client",
      });
      expect(await store.attach(c.handle, "tokens-3", Date.now())).toEqual({ kind: "attached" });
    });

    it("of 20 concurrent redemptions exactly one gets the grant (exactly once)", async () => {
      const c = newCode();
      await store.create(c.handle, c.record);
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => store.redeem(c.handle, redemption())),
      );
      const kinds = outcomes.map((o) => o.kind).sort();
      expect(kinds.filter((k) => k === "redeemed")).toHaveLength(1);
      expect(kinds.filter((k) => k === "replayed")).toHaveLength(19);
    });

    describe('a retry after a failed issuance (docs/failure.md "Exactly once across faults")', () => {
      const retry = { windowMs: 60_000, leaseMs: 1000 };
      const redeemed = async (overrides: Partial<Redemption> = {}) => {
        const c = newCode({ issuanceNonce: "nonce-1" });
        await store.create(c.handle, c.record);
        const first = redemption({ retry, ...overrides });
        const outcome = await store.redeem(c.handle, first);
        expect(outcome).toMatchObject({
          kind: "redeemed",
          issuance: { nonce: "nonce-1", issuedAt: first.now, retryUntil: first.now + 60_000 },
        });
        return { handle: c.handle, first, outcome };
      };

      it("the same request after the lease, never confirmed, is reissued: the same grant and issuance", async () => {
        const { handle, first, outcome } = await redeemed();
        const again = await store.redeem(handle, { ...first, now: first.now + 1000 });
        expect(again).toEqual({ ...outcome, kind: "reissued" });
        // That retry is an attempt too: the next one waits out its lease.
        expect(await store.redeem(handle, { ...first, now: first.now + 1500 })).toEqual({
          kind: "replayed",
          issuedTokens: "",
          // What the redemption derived: a replay revokes it even unconfirmed.
          issuance: { nonce: "nonce-1", issuedAt: first.now },
        });
        // The duplicate was a replay: nothing is reissued from now on.
        expect((await store.redeem(handle, { ...first, now: first.now + 5000 })).kind).toBe(
          "replayed",
        );
      });

      it("a released attempt may be retried at once", async () => {
        const { handle, first, outcome } = await redeemed();
        await store.release(handle, first.now);
        const again = await store.redeem(handle, { ...first, now: first.now + 1 });
        expect(again).toEqual({ ...outcome, kind: "reissued" });
      });

      it("within the lease, without a release, it is a replay", async () => {
        const { handle, first } = await redeemed();
        expect(await store.redeem(handle, { ...first, now: first.now + 999 })).toEqual({
          kind: "replayed",
          issuedTokens: "",
          // What the redemption derived: a replay revokes it even unconfirmed.
          issuance: { nonce: "nonce-1", issuedAt: first.now },
        });
      });

      it("once confirmed (attached) it is a replay that names what to revoke, released or not", async () => {
        const { handle, first } = await redeemed();
        expect(await store.attach(handle, "tokens-4", first.now)).toEqual({ kind: "attached" });
        await store.release(handle, first.now);
        expect(await store.redeem(handle, { ...first, now: first.now + 2000 })).toEqual({
          kind: "replayed",
          issuedTokens: "tokens-4",
          issuance: { nonce: "nonce-1", issuedAt: first.now },
        });
      });

      it("past the window it is a replay", async () => {
        const { handle, first } = await redeemed();
        await store.release(handle, first.now);
        expect((await store.redeem(handle, { ...first, now: first.now + 60_001 })).kind).toBe(
          "replayed",
        );
      });

      it("another redirect URI, verifier or resources is a replay, and spends the retry", async () => {
        const others: Array<Partial<Redemption>> = [
          { redirectUri: "http://127.0.0.1:51235/callback" },
          { challenge: s256ChallengeOf(`${VERIFIER}x`) },
          { narrowTo: ["https://other.example.com/"] },
        ];
        for (const other of others) {
          const { handle, first } = await redeemed({ narrowTo: ["https://mcp.example.com/mcp"] });
          await store.release(handle, first.now);
          const later = first.now + 1000;
          expect((await store.redeem(handle, { ...first, ...other, now: later })).kind).toBe(
            "replayed",
          );
          expect((await store.redeem(handle, { ...first, now: later + 1000 })).kind).toBe(
            "replayed",
          );
          expect(await store.attach(handle, "tokens-5", later)).toEqual({ kind: "replayed" });
        }
      });

      it("no retry window: a redeemed code is a replay, released or not", async () => {
        const { handle, first } = await redeemed();
        await store.release(handle, first.now);
        const noRetry = { ...first, now: first.now + 1000, retry: { windowMs: 0, leaseMs: 0 } };
        expect((await store.redeem(handle, noRetry)).kind).toBe("replayed");
      });

      it("a code stored redeemed without a consumption is a replay", async () => {
        const c = newCode({ status: "redeemed" });
        await store.create(c.handle, c.record);
        expect((await store.redeem(c.handle, redemption({ retry }))).kind).toBe("replayed");
      });
    });

    it("keeps an empty scope and resource list empty", async () => {
      const c = newCode({ scopes: [], resources: [] });
      await store.create(c.handle, c.record);
      const r = await store.redeem(c.handle, redemption());
      expect(r).toMatchObject({ kind: "redeemed", grant: { scopes: [], resources: [] } });
    });
  });
}
