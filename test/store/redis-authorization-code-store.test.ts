import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  authorizationCodeHandle,
  mintAuthorizationCode,
} from "../../src/domain/authorization-code.js";
import { s256ChallengeOf } from "../../src/domain/pkce.js";
import { RedisAuthorizationCodeStore } from "../../src/store/redis-authorization-code-store.js";
import {
  type RedisProcess,
  startRedis,
  testConnection,
  useRedis,
} from "../support/redis-server.js";
import { authorizationCodeStoreContract } from "./authorization-code-store-contract.js";

let redis: RedisProcess;

const VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
// RFC 7636 Appendix B: the challenge of that verifier.
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

authorizationCodeStoreContract(
  "redis (standalone)",
  async () => {
    redis = await startRedis();
    return new RedisAuthorizationCodeStore(testConnection(new Redis(redis.url)));
  },
  async () => redis.stop(),
);

describe("Redis authorization code layout", () => {
  const fixture = useRedis();

  it("keeps one hash per code, hashed at rest, with the code's TTL", async () => {
    const store = new RedisAuthorizationCodeStore(testConnection(fixture.client), {
      keyPrefix: "t:",
    });
    const code = mintAuthorizationCode();
    const handle = authorizationCodeHandle(code) as string;
    const expiresAt = Date.now() + 60_000;
    await store.create(handle, {
      clientId: "app",
      redirectUri: "http://127.0.0.1/cb",
      codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      scopes: ["read"],
      resources: [],
      subject: "alice",
      createdAt: Date.now(),
      expiresAt,
      status: "issued",
      issuedTokens: "",
      replayed: false,
    });
    const keys = await fixture.client.keys("t:authorization_code:*");
    expect(keys).toEqual([`t:authorization_code:${handle}`]);
    expect(await fixture.client.pexpiretime(keys[0] as string)).toBe(expiresAt);
    const dump = JSON.stringify([keys, await fixture.client.hgetall(keys[0] as string)]);
    expect(dump).not.toContain(code);
  });

  it("a record of the earlier 12-field layout (no approver) still redeems, without an approver; one with an approver adds the 13th field", async () => {
    const store = new RedisAuthorizationCodeStore(testConnection(fixture.client));
    const now = Date.now();
    const record = {
      clientId: "app",
      redirectUri: "http://127.0.0.1/cb",
      codeChallenge: CHALLENGE,
      scopes: ["read"],
      resources: ["https://mcp.example.com/mcp"],
      subject: "alice",
      createdAt: now,
      expiresAt: now + 60_000,
      status: "issued" as const,
      issuedTokens: "",
      replayed: false,
      issuanceNonce: "n0nce",
    };
    const newHandle = () => authorizationCodeHandle(mintAuthorizationCode()) as string;
    const redemption = (at: number) => ({
      clientId: "app",
      redirectUri: "http://127.0.0.1/cb",
      challenge: s256ChallengeOf(VERIFIER),
      narrowTo: [],
      now: at,
      retainUntil: at + 60_000,
      retry: { windowMs: 60_000, leaseMs: 1000 },
    });

    // What the previous version wrote, field by field, the way its CREATE_CODE did.
    const old = newHandle();
    const key = `authorization_code:${old}`;
    await fixture.client.hset(key, {
      c: "app",
      r: "http://127.0.0.1/cb",
      h: CHALLENGE,
      s: "read",
      x: "https://mcp.example.com/mcp",
      u: "alice",
      t: String(now),
      e: String(now + 60_000),
      st: "I",
      i: "",
      p: "0",
      n: "n0nce",
    });
    await fixture.client.pexpireat(key, now + 60_000);
    const grant = {
      clientId: "app",
      subject: "alice",
      scopes: ["read"],
      resources: ["https://mcp.example.com/mcp"],
    };
    const redeemed = await store.redeem(old, redemption(now));
    expect(redeemed).toEqual({
      kind: "redeemed",
      grant,
      issuance: { nonce: "n0nce", issuedAt: now, retryUntil: now + 60_000 },
    });
    await store.release(old);
    expect(await store.redeem(old, redemption(now + 1))).toEqual({
      ...redeemed,
      kind: "reissued",
    });

    // Written now with an approver: the 13th field, given back with the grant.
    const fresh = newHandle();
    await store.create(fresh, { ...record, approverAddress: "198.51.100.9" });
    const fields = await fixture.client.hgetall(`authorization_code:${fresh}`);
    expect(Object.keys(fields)).toHaveLength(13);
    expect(fields.ap).toBe("198.51.100.9");
    expect(await store.redeem(fresh, redemption(now))).toMatchObject({
      kind: "redeemed",
      grant,
      approverAddress: "198.51.100.9",
    });
    // Without one, the record keeps the earlier 12 fields.
    const plain = newHandle();
    await store.create(plain, record);
    expect(Object.keys(await fixture.client.hgetall(`authorization_code:${plain}`))).toHaveLength(
      12,
    );
  });
});
