import { describe, expect, it } from "vitest";
import { OAuthError } from "../../src/domain/oauth-error.js";
import { MemoryDeviceStore } from "../../src/store/memory-device-store.js";
import { deviceStoreContract, newRequest } from "./device-store-contract.js";

deviceStoreContract(
  "memory",
  async () => new MemoryDeviceStore({ maxPending: 10_000 }),
  async () => {},
);

describe("MemoryDeviceStore: bounded by HANDOFF_MEMORY_MAX_PENDING", () => {
  const T0 = 1_800_000_000_000;
  const request = (expiresAt: number) => {
    const r = newRequest({ expiresAt });
    return [r.device, r.user, r.record] as const;
  };

  it("past the bound a new request is temporarily_unavailable and nothing is stored; expired ones free room", async () => {
    const clock = { now: T0 };
    const store = new MemoryDeviceStore({ maxPending: 3, clock: () => clock.now });
    for (const ttl of [1000, 1000, 60_000]) {
      expect(await store.create(...request(T0 + ttl))).toBe(true);
    }
    const refused = request(T0 + 60_000);
    const error = await store.create(...refused).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).code).toBe("temporarily_unavailable");
    expect(await store.findByUserCode(refused[1], clock.now)).toBeNull();
    // Two expire: room for two more, not three.
    clock.now = T0 + 1000;
    expect(await store.create(...request(T0 + 60_000))).toBe(true);
    expect(await store.create(...request(T0 + 60_000))).toBe(true);
    await expect(store.create(...request(T0 + 60_000))).rejects.toThrow(/too many pending/);
    await store.close();
  });
});
