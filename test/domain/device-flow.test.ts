/** DeviceFlow rules that no transport can reach on its own. */
import { describe, expect, it } from "vitest";
import { StaticClientRegistry } from "../../src/config/clients-file.js";
import { DeviceFlow, PACING_ANSWERS_KEPT } from "../../src/domain/device-flow.js";
import type { PollOutcome } from "../../src/domain/ports/device-store.js";
import { NO_FLOW_EVENTS } from "../../src/domain/ports/flow-events.js";
import { DEFAULT_RESOURCE_LIMITS } from "../../src/domain/resource.js";
import { MemoryDeviceStore } from "../../src/store/memory-device-store.js";
import { PUBLIC_CLIENT } from "../support/test-clients.js";

function flow() {
  return new DeviceFlow({
    clients: new StaticClientRegistry([PUBLIC_CLIENT]),
    store: new MemoryDeviceStore({ maxPending: 10_000 }),
    tokens: {
      issue: async (g) => ({
        accessToken: `token-for-${g.subject}`,
        tokenType: "Bearer",
        expiresIn: 60,
        scope: "",
      }),
    },
    options: {
      verificationUri: "https://auth.example/device",
      expiresIn: 60,
      interval: 5,
      jitterToleranceMs: 1000,
      resources: DEFAULT_RESOURCE_LIMITS,
    },
    events: NO_FLOW_EVENTS,
  });
}

/** A flow on a clock the test moves (store and flow alike), that never issues tokens. */
function clockedFlow(
  clock: () => number,
  store = new MemoryDeviceStore({ maxPending: 10, clock }),
) {
  return new DeviceFlow({
    clients: new StaticClientRegistry([PUBLIC_CLIENT]),
    store,
    tokens: { issue: async () => Promise.reject(new Error("not approved")) },
    options: {
      verificationUri: "https://a.example/d",
      expiresIn: 60,
      interval: 5,
      jitterToleranceMs: 0,
      resources: DEFAULT_RESOURCE_LIMITS,
    },
    events: NO_FLOW_EVENTS,
    clock,
  });
}

const credentials = { clientId: "public-cli", method: "none" } as const;

describe("DeviceFlow", () => {
  it("keeps control characters out of stored values (the Redis record separates fields with U+001F)", async () => {
    const f = flow();
    const a = await f.authorize({
      credentials,
      ipAddress: "127.0.0.1",
      userAgent: "cli\x1f/1.0\u0085",
    });
    expect((await f.describe(a.userCode)).userAgent).toBe("cli\uFFFD/1.0\uFFFD");
    await expect(
      f.decide({ userCode: a.userCode, subject: "al\x1fice", approve: true }),
    ).rejects.toMatchObject({
      code: "invalid_request",
    });
    await expect(
      f.authorize({
        credentials,
        ipAddress: "127.0.0.1",
        userAgent: "",
        resources: ["https://a.example/\x1f"],
      }),
    ).rejects.toMatchObject({ code: "invalid_target" });
  });

  it("bounds the subject: 256 characters pass, 257 are invalid_request", async () => {
    const f = flow();
    const a = await f.authorize({ credentials, ipAddress: "", userAgent: "" });
    await expect(
      f.decide({ userCode: a.userCode, subject: "s".repeat(257), approve: true }),
    ).rejects.toMatchObject({ code: "invalid_request" });
    await expect(
      f.decide({ userCode: a.userCode, subject: "", approve: true }),
    ).rejects.toMatchObject({
      code: "invalid_request",
    });
    expect(
      await f.decide({ userCode: a.userCode, subject: "s".repeat(256), approve: true }),
    ).toMatchObject({
      approved: true,
    });
  });

  it("bounds the stored user agent", async () => {
    const f = flow();
    const a = await f.authorize({
      credentials,
      ipAddress: "127.0.0.1",
      userAgent: "x".repeat(5000),
    });
    expect((await f.describe(a.userCode)).userAgent).toHaveLength(512);
  });

  it("approving with narrower scopes grants those; wider is invalid_scope (RFC 6749 §3.3)", async () => {
    const f = flow();
    const a = await f.authorize({
      credentials,
      scopes: ["read", "write"],
      ipAddress: "",
      userAgent: "",
    });
    await expect(
      f.decide({ userCode: a.userCode, subject: "a", approve: true, scopes: ["admin"] }),
    ).rejects.toMatchObject({
      code: "invalid_scope",
    });
    expect(
      await f.decide({ userCode: a.userCode, subject: "a", approve: true, scopes: ["write"] }),
    ).toMatchObject({
      grantedScopes: ["write"],
    });
  });

  it("the same person's same decision again is answered as the first (a retry after a lost answer); anything else is already_decided", async () => {
    const f = flow();
    const authorize = () =>
      f.authorize({ credentials, scopes: ["read", "write"], ipAddress: "", userAgent: "" });
    const a = await authorize();
    const first = await f.decide({
      userCode: a.userCode,
      subject: "ann",
      approve: true,
      scopes: ["read"],
    });
    expect(first).toMatchObject({ approved: true, grantedScopes: ["read"] });
    // Again, even asking for more: what the first decision granted.
    expect(await f.decide({ userCode: a.userCode, subject: "ann", approve: true })).toEqual(first);
    for (const other of [
      { subject: "bob", approve: true },
      { subject: "ann", approve: false },
      { subject: "ann", approve: true, refuseRepeat: true },
    ]) {
      await expect(f.decide({ userCode: a.userCode, ...other })).rejects.toMatchObject({
        code: "already_decided",
      });
    }
    // Still after the device redeemed it; and the code was spent once.
    const poll = await f.poll(credentials, a.deviceCode);
    expect(poll.ok).toBe(true);
    expect(await f.decide({ userCode: a.userCode, subject: "ann", approve: true })).toEqual(first);
    await expect(f.poll(credentials, a.deviceCode)).rejects.toMatchObject({
      code: "invalid_grant",
    });

    const d = await authorize();
    const denied = await f.decide({ userCode: d.userCode, subject: "ann", approve: false });
    expect(await f.decide({ userCode: d.userCode, subject: "ann", approve: false })).toEqual(
      denied,
    );
    await expect(
      f.decide({ userCode: d.userCode, subject: "ann", approve: true }),
    ).rejects.toMatchObject({ code: "already_decided" });
  });

  it("the verification_uri_complete carries the code; the verification_uri does not (RFC 8628 §3.3.1)", async () => {
    const a = await flow().authorize({ credentials, ipAddress: "", userAgent: "" });
    expect(a.verificationUri).toBe("https://auth.example/device");
    expect(new URL(a.verificationUriComplete).searchParams.get("user_code")).toBe(a.userCode);
  });

  it("RFC 8628 §3.5: pending, slow_down, denied and expired are returned as values, not thrown", async () => {
    let now = 1_800_000_000_000;
    const f = clockedFlow(() => now);
    const first = await f.authorize({ credentials, ipAddress: "", userAgent: "" });
    expect(await f.poll(credentials, first.deviceCode)).toEqual({
      ok: false,
      refusal: {
        code: "authorization_pending",
        description: "the request has not been decided yet",
        interval: 5,
      },
    });
    now += 1000;
    expect(await f.poll(credentials, first.deviceCode)).toMatchObject({
      ok: false,
      refusal: { code: "slow_down", interval: 10 },
    });
    await f.decide({ userCode: first.userCode, subject: "a", approve: false });
    expect(await f.poll(credentials, first.deviceCode)).toMatchObject({
      ok: false,
      refusal: { code: "access_denied" },
    });
    now += 60_000;
    expect(await f.poll(credentials, first.deviceCode)).toMatchObject({
      ok: false,
      refusal: { code: "expired_token" },
    });
    // A code that never existed is still a thrown invalid_grant.
    await expect(f.poll(credentials, "not-a-device-code")).rejects.toMatchObject({
      code: "invalid_grant",
    });
  });

  it("RFC 8628 §3.5: each interval's slow_down answer is made once, up to PACING_ANSWERS_KEPT intervals, and past them still right", async () => {
    let now = 1_800_000_000_000;
    const f = clockedFlow(() => now);
    const a = await f.authorize({ credentials, ipAddress: "", userAgent: "" });
    const b = await f.authorize({ credentials, ipAddress: "", userAgent: "" });
    const refusal = async (code: string) => {
      now += 1;
      const r = await f.poll(credentials, code);
      if (r.ok) throw new Error("not approved");
      return r.refusal;
    };
    await refusal(a.deviceCode);
    await refusal(b.deviceCode);
    // Both codes at the same interval get the one kept answer (the transports encode it once).
    expect(await refusal(a.deviceCode)).toBe(await refusal(b.deviceCode));
    // A client that ignores slow_down walks through new intervals; past the kept ones each answer is made anew.
    let last = await refusal(a.deviceCode);
    for (let i = 0; i < PACING_ANSWERS_KEPT; i++) last = await refusal(a.deviceCode);
    expect(last).toEqual({
      code: "slow_down",
      description: `polling too fast; wait ${last.interval} seconds between requests`,
      interval: 5 + 5 * (PACING_ANSWERS_KEPT + 2),
    });
    for (let i = 0; i < PACING_ANSWERS_KEPT; i++) await refusal(b.deviceCode);
    const again = await refusal(b.deviceCode);
    expect(again).toEqual(last);
    expect(again).not.toBe(last);
  });

  it("RFC 8628 §3.5: a code whose record just expired, within the second its expiry names, is expired_token (never invalid_grant)", async () => {
    // Mid-second, so the expiry in the code and the record's differ by 700 ms.
    let now = 1_800_000_000_300;
    const f = clockedFlow(() => now);
    const { deviceCode } = await f.authorize({ credentials, ipAddress: "", userAgent: "" });
    now += 60_000 + 100; // the record is gone; the second of expiry is not over
    expect(await f.poll(credentials, deviceCode)).toMatchObject({
      ok: false,
      refusal: { code: "expired_token" },
    });
  });

  it("RFC 8628 §3.5: a poll begun before its code's expiry whose store answer comes after the TTL removed the record is expired_token (never invalid_grant)", async () => {
    let now = 1_800_000_000_300;
    // The store takes its time: by its answer the record's TTL has run out and the record is gone.
    class SlowStore extends MemoryDeviceStore {
      override async poll(): Promise<PollOutcome> {
        now += 600;
        return { kind: "unknown" };
      }
    }
    const f = clockedFlow(() => now, new SlowStore({ maxPending: 10, clock: () => now }));
    const { deviceCode } = await f.authorize({ credentials, ipAddress: "", userAgent: "" });
    now += 60_000 - 400; // 100 ms before the second the code names, 400 ms before the record's expiry
    expect(await f.poll(credentials, deviceCode)).toMatchObject({
      ok: false,
      refusal: { code: "expired_token" },
    });
  });
});
