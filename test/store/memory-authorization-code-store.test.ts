import { describe, expect, it } from "vitest";
import {
  authorizationCodeHandle,
  mintAuthorizationCode,
} from "../../src/domain/authorization-code.js";
import { MemoryAuthorizationCodeStore } from "../../src/store/memory-authorization-code-store.js";
import { authorizationCodeStoreContract } from "./authorization-code-store-contract.js";

authorizationCodeStoreContract(
  "memory",
  async () => new MemoryAuthorizationCodeStore({ maxCodes: 10_000 }),
  async () => {},
);

describe("MemoryAuthorizationCodeStore: bounded by HANDOFF_MEMORY_MAX_PENDING", () => {
  it("refuses a code past the cap with temporarily_unavailable, and takes one again once one expires", async () => {
    let now = 1_800_000_000_000;
    const store = new MemoryAuthorizationCodeStore({ maxCodes: 2, clock: () => now });
    const record = (expiresAt: number) => ({
      clientId: "app",
      redirectUri: "",
      codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      scopes: [],
      resources: [],
      subject: "alice",
      createdAt: now,
      expiresAt,
      status: "issued" as const,
      issuedTokens: "",
      replayed: false,
    });
    const handle = () => authorizationCodeHandle(mintAuthorizationCode()) as string;
    expect(await store.create(handle(), record(now + 10_000))).toBe(true);
    expect(await store.create(handle(), record(now + 60_000))).toBe(true);
    await expect(store.create(handle(), record(now + 60_000))).rejects.toMatchObject({
      code: "temporarily_unavailable",
    });
    now += 10_000;
    expect(await store.create(handle(), record(now + 60_000))).toBe(true);
    await store.close();
  });
});
