import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  authorizationCodeHandle,
  mintAuthorizationCode,
} from "../../src/domain/authorization-code.js";
import { RedisAuthorizationCodeStore } from "../../src/store/redis-authorization-code-store.js";
import {
  type RedisProcess,
  startRedis,
  testConnection,
  useRedis,
} from "../support/redis-server.js";
import { authorizationCodeStoreContract } from "./authorization-code-store-contract.js";

let redis: RedisProcess;

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
});
