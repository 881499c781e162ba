import { describe, expect, it } from "vitest";
import type { RefreshFamily } from "../../src/domain/ports/token-store.js";
import {
  hashRefreshToken,
  mintFamilyId,
  mintRefreshToken,
} from "../../src/domain/refresh-token.js";
import { MemoryTokenStore } from "../../src/store/memory-token-store.js";
import { until } from "../support/until.js";
import { tokenStoreContract } from "./token-store-contract.js";

tokenStoreContract(
  "memory",
  async () => new MemoryTokenStore(Date.now, 50),
  async () => {},
);

describe("memory token store: the indexes stay bounded by live families", () => {
  const T0 = 1_800_000_000_000;
  const family = (subject: string, clientId: string, end: number): RefreshFamily => ({
    clientId,
    subject,
    scopes: ["read"],
    resources: [],
    createdAt: T0,
    absoluteExpiresAt: end,
    issuedAt: T0,
    idleExpiresAt: end,
    currentHash: hashRefreshToken(mintRefreshToken(mintFamilyId())),
    rotatedHashes: [],
    accessTokens: [],
  });

  it("a family that expires leaves the subject's and the client's index at the sweep, unread", async () => {
    let now = T0;
    const store = new MemoryTokenStore(() => now, 5);
    for (let i = 0; i < 20; i++) {
      await store.createFamily(
        mintFamilyId(),
        family(`person-${i % 4}`, `cli-${i % 3}`, T0 + 60_000),
      );
    }
    const survivor = mintFamilyId();
    await store.createFamily(survivor, family("person-0", "cli-0", T0 + 3_600_000));
    expect(store.indexedEntries).toEqual({ bySubject: 21, byClient: 21 });
    // The clock passes the 20 families' end; nothing lists them, only the sweep runs.
    now = T0 + 60_000;
    await until(() => store.indexedEntries.bySubject === 1);
    expect(store.indexedEntries).toEqual({ bySubject: 1, byClient: 1 });
    expect((await store.listBySubject("person-0", now, 10)).map((g) => g.familyId)).toEqual([
      survivor,
    ]);
    now = T0 + 3_600_000;
    await until(() => store.indexedEntries.bySubject === 0);
    expect(store.indexedEntries).toEqual({ bySubject: 0, byClient: 0 });
    await store.close();
  });

  it("a revoked or reused family leaves the indexes at once", async () => {
    const now = T0;
    const store = new MemoryTokenStore(() => now, 60_000);
    const id = mintFamilyId();
    const token = mintRefreshToken(id);
    await store.createFamily(id, {
      ...family("p", "c", T0 + 60_000),
      currentHash: hashRefreshToken(token),
    });
    expect(store.indexedEntries).toEqual({ bySubject: 1, byClient: 1 });
    expect((await store.revokeFamily(id, hashRefreshToken(token), undefined, now)).kind).toBe(
      "revoked",
    );
    expect(store.indexedEntries).toEqual({ bySubject: 0, byClient: 0 });
    await store.close();
  });
});
