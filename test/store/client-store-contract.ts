/**
 * The ClientStore contract: one suite, run against every adapter (memory, a
 * real Redis, a real Redis Cluster), so the Lua scripts and the memory store
 * cannot drift apart. Times are real (Redis expires keys by its own clock),
 * so expiry cases use short lives and real waits.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "../../src/domain/client.js";
import type { ClientStore, StoredClient } from "../../src/domain/ports/client-store.js";
import { sleep } from "../support/handoff-server.js";

function stored(overrides: Partial<StoredClient> = {}, client: Partial<Client> = {}): StoredClient {
  return {
    client: {
      id: `c-${randomUUID()}`,
      name: "Registered <b>CLI</b> \u{1F680}",
      grantTypes: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
      scopes: ["read", "write"],
      defaultScopes: ["read"],
      redirectUris: [],
      active: true,
      origin: { kind: "registered" },
      ...client,
    },
    createdAt: Date.now(),
    idleTtlMs: 0,
    expiresAt: 0,
    metadata: { software_id: "vs-code", software_version: "1.99" },
    ...overrides,
  };
}

/** A client with a sliding expiry of `idleMs` from now. */
function sliding(idleMs: number, client: Partial<Client> = {}): StoredClient {
  return stored({ idleTtlMs: idleMs, expiresAt: Date.now() + idleMs }, client);
}

export function clientStoreContract(
  name: string,
  open: () => Promise<ClientStore>,
  close: () => Promise<void>,
) {
  describe(`ClientStore contract: ${name}`, () => {
    let store: ClientStore;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
      await close();
    });

    it("stores a client and gives it back unchanged (RFC 7591 §3.2.1 metadata included)", async () => {
      const c = stored({}, { secretHash: "sha256:abc", redirectUris: ["http://127.0.0.1/cb"] });
      expect(await store.put(c, "create", 0)).toBe("stored");
      expect(await store.get(c.client.id, Date.now())).toEqual(c);
      expect(await store.get(`${c.client.id}-other`, Date.now())).toBeUndefined();
    });

    it("create refuses an existing id and replace a missing one; replace updates", async () => {
      const c = stored();
      expect(await store.put(c, "replace", 0)).toBe("missing");
      expect(await store.get(c.client.id, Date.now())).toBeUndefined();
      expect(await store.put(c, "create", 0)).toBe("stored");
      const renamed = { ...c, client: { ...c.client, name: "Renamed" } };
      expect(await store.put(renamed, "create", 0)).toBe("exists");
      expect((await store.get(c.client.id, Date.now()))?.client.name).toBe(c.client.name);
      expect(await store.put(renamed, "replace", 0)).toBe("stored");
      expect((await store.get(c.client.id, Date.now()))?.client.name).toBe("Renamed");
    });

    it("update is replace that keeps the stored active flag (a racing Disable is never undone)", async () => {
      const c = stored();
      expect(await store.put(c, "update", 0)).toBe("missing");
      await store.put(c, "create", 0);
      await store.setDisabled(c.client.id, true);
      // The caller read the client before the Disable: its copy still says active.
      const renamed = { ...c, client: { ...c.client, name: "Renamed", active: true } };
      expect(await store.put(renamed, "update", 0)).toBe("stored");
      const now = await store.get(c.client.id, Date.now());
      expect(now?.client).toMatchObject({ name: "Renamed", active: false });
    });

    it("disables and re-enables a client; false for an unknown one", async () => {
      const c = stored();
      await store.put(c, "create", 0);
      expect(await store.setDisabled(c.client.id, true)).toBe(true);
      expect((await store.get(c.client.id, Date.now()))?.client.active).toBe(false);
      expect(await store.setDisabled(c.client.id, false)).toBe(true);
      expect((await store.get(c.client.id, Date.now()))?.client.active).toBe(true);
      expect(await store.setDisabled(`${c.client.id}-x`, true)).toBe(false);
    });

    it("deletes a client once", async () => {
      const c = stored();
      await store.put(c, "create", 0);
      expect(await store.delete(c.client.id)).toBe(true);
      expect(await store.get(c.client.id, Date.now())).toBeUndefined();
      expect(await store.delete(c.client.id)).toBe(false);
    });

    it("forgets a client left unused for its idle life; each use pushes the end out", async () => {
      const unused = sliding(400);
      const used = sliding(400);
      await store.put(unused, "create", 0);
      await store.put(used, "create", 0);
      for (let i = 0; i < 4; i++) {
        await sleep(150);
        const seen = await store.get(used.client.id, Date.now());
        expect(seen?.expiresAt).toBeGreaterThan(Date.now() + 300);
      }
      // 600 ms after the put: the unused client is gone, the used one is not.
      expect(await store.get(unused.client.id, Date.now())).toBeUndefined();
      expect((await store.get(used.client.id, Date.now()))?.client.id).toBe(used.client.id);
    });

    it("forgets a client at a fixed expiry (a cached document) without sliding it", async () => {
      const doc = stored({ expiresAt: Date.now() + 300 });
      await store.put(doc, "create", 0);
      expect((await store.get(doc.client.id, Date.now()))?.expiresAt).toBe(doc.expiresAt);
      await sleep(400);
      expect(await store.get(doc.client.id, Date.now())).toBeUndefined();
      expect(await store.put(doc, "replace", 0)).toBe("missing");
      expect(await store.put(doc, "create", 0)).toBe("stored");
    });

    it("caps the expiring clients of a space; clients without expiry never count; expired ones free room", async () => {
      const s = store;
      {
        // Other cases leave expiring clients behind: count from what the space holds.
        const before = (await s.list(undefined, 10_000, Date.now())).clients.filter(
          (c) => c.expiresAt > 0,
        ).length;
        const cap = before + 2;
        expect(await s.put(sliding(500), "create", cap)).toBe("stored");
        const second = sliding(60_000);
        expect(await s.put(second, "create", cap)).toBe("stored");
        expect(await s.put(sliding(60_000), "create", cap)).toBe("full");
        expect(await s.put(stored(), "create", cap)).toBe("stored");
        // Replacing an expiring client already stored is not a new one.
        expect(await s.put(second, "replace", cap)).toBe("stored");
        await sleep(600);
        expect(await s.put(sliding(60_000), "create", cap)).toBe("stored");
      }
    });

    it("lists by page in id order, without expired, deleted or missing clients", async () => {
      const tag = randomUUID();
      const ids = ["a", "b", "c", "d", "e"].map((x) => `list-${tag}-${x}`);
      for (const id of ids) await store.put(stored({}, { id }), "create", 0);
      await store.put(
        stored({ expiresAt: Date.now() + 200 }, { id: `list-${tag}-bb` }),
        "create",
        0,
      );
      await store.delete(ids[3] ?? "");
      await sleep(300);
      const seen: string[] = [];
      let after: string | undefined = `list-${tag}-`;
      let pages = 0;
      do {
        const page = await store.list(after, 2, Date.now());
        pages++;
        for (const c of page.clients)
          if (c.client.id.startsWith(`list-${tag}-`)) seen.push(c.client.id);
        expect(page.clients.length).toBeLessThanOrEqual(2);
        after = page.next;
        if (after !== undefined && !after.startsWith(`list-${tag}-`)) break;
      } while (after !== undefined && pages < 10);
      expect(seen).toEqual([ids[0], ids[1], ids[2], ids[4]]);
    });
  });
}
