/**
 * The DeviceStore contract: one suite, run against every adapter (memory,
 * Redis, and Redis Cluster when it exists), so the Lua scripts and the
 * domain's pure transitions cannot drift apart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeviceAuthorization } from "../../src/domain/device-authorization.js";
import { mintDeviceCode, parseDeviceCode, userCodeHandle } from "../../src/domain/device-code.js";
import type {
  DeviceStore,
  PacingPolicy,
  RetryPolicy,
} from "../../src/domain/ports/device-store.js";
import { mintUserCode } from "../../src/domain/user-code.js";

const PACING: PacingPolicy = { minGapMs: 4000, stepSeconds: 5 };
const RETRY: RetryPolicy = { windowMs: 30_000, leaseMs: 4000 };
const T0 = 1_800_000_000_000;

/** A request (also for adapter-specific tests); pass `userCode` to mint a second device code for the same user code (same tag, as the domain does). */
export function newRequest(
  overrides: Partial<DeviceAuthorization> = {},
  userCode = mintUserCode(),
) {
  const expiresAt = overrides.expiresAt ?? T0 + 900_000;
  const deviceCode = mintDeviceCode(userCode, expiresAt);
  const parsed = parseDeviceCode(deviceCode);
  if (!parsed) throw new Error("unparseable device code");
  const record: DeviceAuthorization = {
    clientId: "cli",
    scopes: ["read", "write"],
    resources: ["https://mcp.example.com/"],
    createdAt: T0,
    expiresAt,
    interval: 5,
    lastPolledAt: 0,
    status: "pending",
    ipAddress: "203.0.113.7",
    userAgent: "agent/1.0 (test)",
    ...overrides,
  };
  return { userCode, deviceCode, device: parsed.handle, user: userCodeHandle(userCode), record };
}

/**
 * `clock` offsets: stores with a real TTL are exercised with `now` values
 * relative to T0, and records expire at `expiresAt`; Redis TTLs are absolute
 * (PXAT), so expiry tests use an expiresAt in the real near future.
 */
export function deviceStoreContract(
  name: string,
  open: () => Promise<DeviceStore>,
  close: () => Promise<void>,
) {
  describe(`DeviceStore contract: ${name}`, () => {
    let store: DeviceStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await close();
    });

    it("stores a request and finds it by user code (RFC 8628 §3.3)", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000 });
      expect(await store.create(r.device, r.user, r.record)).toBe(true);
      const found = await store.findByUserCode(r.user, Date.now());
      expect(found).toMatchObject({
        clientId: "cli",
        scopes: ["read", "write"],
        resources: ["https://mcp.example.com/"],
        status: "pending",
        ipAddress: "203.0.113.7",
        userAgent: "agent/1.0 (test)",
        interval: 5,
      });
    });

    it("refuses a user code that a live request holds, writing nothing", async () => {
      const a = newRequest({ expiresAt: Date.now() + 60_000 });
      const b = newRequest({ expiresAt: Date.now() + 60_000, clientId: "other" }, a.userCode);
      expect(await store.create(a.device, a.user, a.record)).toBe(true);
      expect(await store.create(b.device, a.user, b.record)).toBe(false);
      expect(await store.poll(b.device, "other", T0, PACING)).toEqual({ kind: "unknown" });
      expect((await store.findByUserCode(a.user, Date.now()))?.clientId).toBe("cli");
    });

    it("an unknown device code is unknown; another client's is wrong_client (RFC 6749 §5.2 invalid_grant)", async () => {
      const r = newRequest();
      expect(await store.poll(r.device, "cli", T0, PACING)).toEqual({ kind: "unknown" });
      await store.create(r.device, r.user, r.record);
      expect(await store.poll(r.device, "intruder", T0, PACING)).toEqual({ kind: "wrong_client" });
    });

    it("paces polls: the first is never slow_down; too soon is slow_down with +5 s each time (RFC 8628 §3.5)", async () => {
      const r = newRequest();
      await store.create(r.device, r.user, r.record);
      expect(await store.poll(r.device, "cli", T0, PACING)).toEqual({
        kind: "pending",
        interval: 5,
      });
      expect(await store.poll(r.device, "cli", T0 + 1000, PACING)).toEqual({
        kind: "slow_down",
        interval: 10,
      });
      expect(await store.poll(r.device, "cli", T0 + 2000, PACING)).toEqual({
        kind: "slow_down",
        interval: 15,
      });
      // A client that slows down recovers: 4 s (the base interval less jitter) after its last poll is on time.
      expect(await store.poll(r.device, "cli", T0 + 6000, PACING)).toEqual({
        kind: "pending",
        interval: 15,
      });
      expect(await store.poll(r.device, "cli", T0 + 10_000, PACING)).toEqual({
        kind: "pending",
        interval: 15,
      });
    });

    it("a wrong-client poll does not disturb the owner's pacing", async () => {
      const r = newRequest();
      await store.create(r.device, r.user, r.record);
      await store.poll(r.device, "cli", T0, PACING);
      await store.poll(r.device, "intruder", T0 + 100, PACING);
      expect(await store.poll(r.device, "cli", T0 + 5000, PACING)).toEqual({
        kind: "pending",
        interval: 5,
      });
    });

    it("approval is consumed exactly once, then the code is spent (RFC 8628 §3.5)", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000 });
      await store.create(r.device, r.user, r.record);
      const decided = await store.decide(
        r.user,
        { approve: true, subject: "alice", grantedScopes: ["read"] },
        Date.now(),
      );
      expect(decided.kind).toBe("decided");
      if (decided.kind === "decided")
        expect(decided.authorization).toMatchObject({ status: "approved", subject: "alice" });
      const now = Date.now();
      expect(await store.poll(r.device, "cli", now, PACING)).toEqual({
        kind: "issued",
        grant: {
          clientId: "cli",
          subject: "alice",
          scopes: ["read"],
          resources: ["https://mcp.example.com/"],
          // Where the request came from, for the family (the decision named no approver).
          origin: { requesterAddress: "203.0.113.7", requesterUserAgent: "agent/1.0 (test)" },
        },
        // No nonce in this record; no retry policy given: the window is closed at once.
        issuance: { nonce: "", issuedAt: now, retryUntil: now },
      });
      expect(await store.poll(r.device, "cli", now + 10_000, PACING)).toEqual({ kind: "consumed" });
      expect((await store.findByUserCode(r.user, Date.now()))?.status).toBe("consumed");
    });

    it("the approver's address is kept with the decision and handed with the grant, on the retry too", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000, issuanceNonce: "n0nce" });
      await store.create(r.device, r.user, r.record);
      expect((await store.findByUserCode(r.user, Date.now()))?.approverAddress).toBeUndefined();
      const decided = await store.decide(
        r.user,
        {
          approve: true,
          subject: "alice",
          grantedScopes: ["read"],
          approverAddress: "2001:db8::5",
        },
        Date.now(),
      );
      expect(decided).toMatchObject({ authorization: { approverAddress: "2001:db8::5" } });
      expect((await store.findByUserCode(r.user, Date.now()))?.approverAddress).toBe("2001:db8::5");
      const origin = {
        requesterAddress: "203.0.113.7",
        requesterUserAgent: "agent/1.0 (test)",
        approverAddress: "2001:db8::5",
      };
      const t = Date.now();
      expect(await store.poll(r.device, "cli", t, PACING, [], RETRY)).toMatchObject({
        kind: "issued",
        grant: { subject: "alice", origin },
      });
      expect(await store.poll(r.device, "cli", t + 5000, PACING, [], RETRY)).toMatchObject({
        kind: "reissued",
        grant: { origin },
      });
    });

    it("a consumed code whose issuance was not confirmed is reissued on time, with the same issuance (docs/failure.md)", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000, issuanceNonce: "n0nce" });
      await store.create(r.device, r.user, r.record);
      await store.decide(
        r.user,
        { approve: true, subject: "alice", grantedScopes: ["read"] },
        Date.now(),
      );
      const t = Date.now();
      const first = await store.poll(r.device, "cli", t, PACING, [], RETRY);
      const issuance = { nonce: "n0nce", issuedAt: t, retryUntil: t + RETRY.windowMs };
      expect(first).toMatchObject({ kind: "issued", issuance });
      // Sooner than the lease: a duplicate racing the attempt, not a retry.
      expect(await store.poll(r.device, "cli", t + 100, PACING, [], RETRY)).toEqual({
        kind: "consumed",
      });
      // Another request (other resources) is not a retry of this one.
      expect(
        await store.poll(r.device, "cli", t + 5000, PACING, ["https://mcp.example.com/"], RETRY),
      ).toEqual({ kind: "consumed" });
      const again = await store.poll(r.device, "cli", t + 5000, PACING, [], RETRY);
      expect(again).toEqual({
        kind: "reissued",
        grant: {
          clientId: "cli",
          subject: "alice",
          scopes: ["read"],
          resources: ["https://mcp.example.com/"],
          // Where the request came from, for the family (the decision named no approver).
          origin: { requesterAddress: "203.0.113.7", requesterUserAgent: "agent/1.0 (test)" },
        },
        issuance,
      });
      // The lease starts again from the retry.
      expect(await store.poll(r.device, "cli", t + 5100, PACING, [], RETRY)).toEqual({
        kind: "consumed",
      });
      expect((await store.poll(r.device, "cli", t + 9200, PACING, [], RETRY)).kind).toBe(
        "reissued",
      );
      // Past the window: spent.
      expect(await store.poll(r.device, "cli", t + RETRY.windowMs + 1, PACING, [], RETRY)).toEqual({
        kind: "consumed",
      });
      expect(await store.poll(r.device, "other", t + 5000, PACING, [], RETRY)).toEqual({
        kind: "wrong_client",
      });
    });

    it("a released attempt may be retried at once; a release after a confirmation changes nothing", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000, issuanceNonce: "n" });
      await store.create(r.device, r.user, r.record);
      await store.decide(r.user, { approve: true, subject: "dan", grantedScopes: [] }, Date.now());
      const t = Date.now();
      expect((await store.poll(r.device, "cli", t, PACING, [], RETRY)).kind).toBe("issued");
      await store.release(r.device, t + 10);
      expect((await store.poll(r.device, "cli", t + 20, PACING, [], RETRY)).kind).toBe("reissued");
      // The retry holds the lease again.
      expect(await store.poll(r.device, "cli", t + 30, PACING, [], RETRY)).toEqual({
        kind: "consumed",
      });
      await store.confirm(r.device, t + 40);
      await store.release(r.device, t + 50);
      expect(await store.poll(r.device, "cli", t + 60, PACING, [], RETRY)).toEqual({
        kind: "consumed",
      });
    });

    it("a confirmed issuance is never reissued", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000, issuanceNonce: "n" });
      await store.create(r.device, r.user, r.record);
      await store.decide(r.user, { approve: true, subject: "bob", grantedScopes: [] }, Date.now());
      const t = Date.now();
      expect((await store.poll(r.device, "cli", t, PACING, [], RETRY)).kind).toBe("issued");
      await store.confirm(r.device, t);
      expect(await store.poll(r.device, "cli", t + 5000, PACING, [], RETRY)).toEqual({
        kind: "consumed",
      });
      // Confirming what is not consumed changes nothing.
      const p = newRequest({ expiresAt: Date.now() + 60_000 });
      await store.create(p.device, p.user, p.record);
      await store.confirm(p.device, t);
      expect((await store.findByUserCode(p.user, Date.now()))?.status).toBe("pending");
      await store.confirm(newRequest().device, t); // unknown: no error
    });

    it("a consumed record outlives its code's expiry for the retry window", async () => {
      const r = newRequest({ expiresAt: Date.now() + 400 });
      await store.create(r.device, r.user, r.record);
      await store.decide(
        r.user,
        { approve: true, subject: "carol", grantedScopes: [] },
        Date.now(),
      );
      const t = Date.now();
      expect((await store.poll(r.device, "cli", t, PACING, [], RETRY)).kind).toBe("issued");
      await new Promise((done) => setTimeout(done, 600));
      // The code has expired, its consumption has not: a retry still gets the set.
      expect((await store.poll(r.device, "cli", t + 5000, PACING, [], RETRY)).kind).toBe(
        "reissued",
      );
    });

    it("concurrent polls after approval: exactly one issued", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000 });
      await store.create(r.device, r.user, r.record);
      await store.decide(
        r.user,
        { approve: true, subject: "bob", grantedScopes: ["read", "write"] },
        Date.now(),
      );
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.poll(r.device, "cli", now, PACING)),
      );
      expect(results.filter((x) => x.kind === "issued")).toHaveLength(1);
      expect(results.filter((x) => x.kind === "consumed")).toHaveLength(49);
    });

    it("RFC 8707 §2.2: a resource outside the grant is invalid_target and spends nothing", async () => {
      const r = newRequest({
        expiresAt: Date.now() + 60_000,
        resources: ["https://a.example/", "https://b.example/"],
      });
      await store.create(r.device, r.user, r.record);
      await store.decide(
        r.user,
        { approve: true, subject: "dave", grantedScopes: ["read"] },
        Date.now(),
      );
      const now = Date.now();
      expect(await store.poll(r.device, "cli", now, PACING, ["https://c.example/"])).toEqual({
        kind: "invalid_target",
      });
      expect(
        await store.poll(r.device, "cli", now, PACING, ["https://a.example/", "https://a.exam"]),
      ).toEqual({
        kind: "invalid_target",
      });
      expect(await store.poll(r.device, "cli", now, PACING, ["https://b.example/"])).toMatchObject({
        kind: "issued",
      });
    });

    it("a denial is reported on every poll and cannot be reversed", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000 });
      await store.create(r.device, r.user, r.record);
      expect(
        (
          await store.decide(
            r.user,
            { approve: false, subject: "carol", grantedScopes: [] },
            Date.now(),
          )
        ).kind,
      ).toBe("decided");
      expect(await store.poll(r.device, "cli", Date.now(), PACING)).toEqual({ kind: "denied" });
      expect(await store.poll(r.device, "cli", Date.now() + 10_000, PACING)).toEqual({
        kind: "denied",
      });
      expect(
        await store.decide(
          r.user,
          { approve: true, subject: "carol", grantedScopes: ["read"] },
          Date.now(),
        ),
      ).toMatchObject({
        kind: "already_decided",
        status: "denied",
        // The record as the decision found it: whose decision it was.
        authorization: { status: "denied", subject: "carol" },
      });
    });

    it("concurrent decisions on one code: exactly one wins", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000 });
      await store.create(r.device, r.user, r.record);
      const now = Date.now();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.decide(
            r.user,
            { approve: i % 2 === 0, subject: `u${i}`, grantedScopes: ["read"] },
            now,
          ),
        ),
      );
      expect(results.filter((x) => x.kind === "decided")).toHaveLength(1);
      expect(results.filter((x) => x.kind === "already_decided")).toHaveLength(19);
    });

    it("an unknown user code cannot be decided", async () => {
      const r = newRequest();
      expect(
        await store.decide(r.user, { approve: true, subject: "x", grantedScopes: [] }, T0),
      ).toEqual({
        kind: "not_found",
      });
      expect(await store.findByUserCode(r.user, T0)).toBeNull();
    });

    it("expiry ends every state: both keys vanish at expiresAt (one TTL)", async () => {
      const r = newRequest({ expiresAt: Date.now() + 300 });
      await store.create(r.device, r.user, r.record);
      expect(await store.findByUserCode(r.user, Date.now())).not.toBeNull();
      await new Promise((res) => setTimeout(res, 400));
      const now = Date.now();
      expect(await store.findByUserCode(r.user, now)).toBeNull();
      expect(
        await store.decide(r.user, { approve: true, subject: "x", grantedScopes: [] }, now),
      ).toEqual({
        kind: "not_found",
      });
      expect(["unknown", "expired"]).toContain(
        (await store.poll(r.device, "cli", now, PACING)).kind,
      );
      // After expiry the user code is free for a new request.
      const again = newRequest({ expiresAt: Date.now() + 60_000 }, r.userCode);
      expect(await store.create(again.device, r.user, again.record)).toBe(true);
    });

    it("a record past expiresAt is expired even before the backend's TTL fires", async () => {
      const r = newRequest({ expiresAt: Date.now() + 60_000 });
      await store.create(r.device, r.user, r.record);
      const later = r.record.expiresAt + 1;
      expect(["unknown", "expired"]).toContain(
        (await store.poll(r.device, "cli", later, PACING)).kind,
      );
      expect(await store.findByUserCode(r.user, later)).toBeNull();
      expect(
        (await store.decide(r.user, { approve: true, subject: "x", grantedScopes: [] }, later))
          .kind,
      ).toBe("not_found");
    });

    it("keeps values with spaces, unicode and punctuation intact", async () => {
      const r = newRequest({
        expiresAt: Date.now() + 60_000,
        userAgent: 'Mozilla/5.0 (X11; Linux) "quoted" – ünïcödé 🚀',
        ipAddress: "2001:db8::1",
        resources: [],
        scopes: [],
      });
      await store.create(r.device, r.user, r.record);
      const found = await store.findByUserCode(r.user, Date.now());
      expect(found?.userAgent).toBe(r.record.userAgent);
      expect(found?.ipAddress).toBe("2001:db8::1");
      expect(found?.resources).toEqual([]);
      expect(found?.scopes).toEqual([]);
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("lists a client's pending requests newest first, in pages; decided, expired and other clients' are left out", async () => {
      const clientId = `c-${mintUserCode()}`;
      const made = [];
      for (let n = 0; n < 5; n++) {
        const r = newRequest({ clientId, createdAt: T0 + n, userAgent: `ua${n}` });
        expect(await store.create(r.device, r.user, r.record)).toBe(true);
        made.push(r);
      }
      const decided = made[1];
      if (!decided) throw new Error("no request");
      await store.decide(
        decided.user,
        { approve: true, subject: "bob", grantedScopes: [] },
        T0 + 10,
      );
      const expired = newRequest({ clientId, createdAt: T0 + 6, expiresAt: T0 + 50 });
      await store.create(expired.device, expired.user, expired.record);
      const other = newRequest({ clientId: `${clientId}-other`, createdAt: T0 + 7 });
      await store.create(other.device, other.user, other.record);

      const seen: string[] = [];
      let after: import("../../src/domain/ports/creation-index.js").IndexCursor | undefined;
      let pages = 0;
      do {
        const page = await store.listPendingByClient(clientId, T0 + 100, 2, after);
        expect(page.items.length).toBeLessThanOrEqual(2);
        for (const e of page.items) {
          expect(e.authorization).toMatchObject({ clientId, status: "pending" });
        }
        seen.push(...page.items.map((e) => `${e.device.tag}:${e.device.hash}`));
        after = page.next;
        pages++;
      } while (after !== undefined && pages < 10);
      const live = [made[4], made[3], made[2], made[0]].map(
        (r) => `${r?.device.tag}:${r?.device.hash}`,
      );
      expect(seen).toEqual(live);
      expect(pages).toBe(2);
      const [first] = (await store.listPendingByClient(clientId, T0 + 100, 1)).items;
      expect(first?.authorization).toMatchObject({ userAgent: "ua4", scopes: ["read", "write"] });
      expect(await store.listPendingByClient(`${clientId}-none`, T0, 10)).toEqual({ items: [] });
    });

    it("a decision by the device-code handle (an operator's cancel) is a denial, once", async () => {
      const r = newRequest();
      await store.create(r.device, r.user, r.record);
      const deny = { approve: false, subject: "operator", grantedScopes: [] };
      const out = await store.decideByDevice(r.device, deny, T0 + 10);
      expect(out).toMatchObject({
        kind: "decided",
        authorization: { status: "denied", subject: "operator" },
      });
      expect(await store.decideByDevice(r.device, deny, T0 + 11)).toMatchObject({
        kind: "already_decided",
        status: "denied",
        authorization: { status: "denied", subject: "operator" },
      });
      expect((await store.poll(r.device, "cli", T0 + 20, PACING)).kind).toBe("denied");
      expect(
        await store.decide(r.user, { approve: true, subject: "x", grantedScopes: [] }, T0 + 21),
      ).toMatchObject({ kind: "already_decided", status: "denied" });
      const unknown = newRequest();
      expect(await store.decideByDevice(unknown.device, deny, T0)).toEqual({ kind: "not_found" });
      const late = newRequest();
      await store.create(late.device, late.user, late.record);
      expect(await store.decideByDevice(late.device, deny, late.record.expiresAt)).toEqual({
        kind: "not_found",
      });
    });
  });
}
