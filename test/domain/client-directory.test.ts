/** The one registry over the clients file, the store and metadata documents. */
import { describe, expect, it } from "vitest";
import { authenticateClient, type Client } from "../../src/domain/client.js";
import { ClientDirectory } from "../../src/domain/client-directory.js";
import { MemoryClientStore } from "../../src/store/memory-client-store.js";
import { authorizeDevice, startTestServer } from "../support/handoff-server.js";
import { PUBLIC_CLIENT } from "../support/test-clients.js";

const registered = (id: string, name: string): Client => ({
  ...PUBLIC_CLIENT,
  id,
  name,
  origin: { kind: "registered" },
});

describe("ClientDirectory", () => {
  it("finds file clients first, so a stored client can never shadow one", async () => {
    const stored = new MemoryClientStore();
    const entry = { createdAt: Date.now(), idleTtlMs: 0, expiresAt: 0, metadata: {} };
    await stored.put({ client: registered(PUBLIC_CLIENT.id, "Impostor"), ...entry }, "create", 0);
    await stored.put({ client: registered("dyn-1", "Registered"), ...entry }, "create", 0);
    const dir = new ClientDirectory({ configured: [PUBLIC_CLIENT], stored });
    expect((await dir.find(PUBLIC_CLIENT.id))?.name).toBe(PUBLIC_CLIENT.name);
    expect((await dir.find("dyn-1"))?.origin).toEqual({ kind: "registered" });
    expect(await dir.find("nobody")).toBeUndefined();
    await stored.setDisabled("dyn-1", true);
    await expect(
      authenticateClient(dir, { clientId: "dyn-1", method: "none" }),
    ).rejects.toMatchObject({ code: "invalid_client" });
    await stored.close();
  });

  it("asks the documents source only for the ids it handles, with the requester's address", async () => {
    const stored = new MemoryClientStore();
    const asked: Array<[string, string | undefined]> = [];
    const url = "https://app.example/client.json";
    const dir = new ClientDirectory({
      configured: [],
      stored,
      documents: {
        handles: (id) => id.startsWith("https://"),
        find: async (id, lookup) => {
          asked.push([id, lookup?.address]);
          return {
            ...registered(id, "Doc"),
            origin: { kind: "metadata_document", host: "app.example" },
          };
        },
      },
    });
    const c = await authenticateClient(dir, {
      clientId: url,
      method: "none",
      address: "192.0.2.7",
    });
    expect(c.origin).toEqual({ kind: "metadata_document", host: "app.example" });
    expect(await dir.find("dyn-2")).toBeUndefined();
    expect(asked).toEqual([[url, "192.0.2.7"]]);
    await stored.close();
  });

  it("the server's device flow finds a client put in its store (the composition root wires one registry)", async () => {
    const server = await startTestServer();
    try {
      await server.clientStore.put(
        {
          client: registered("dyn-server", "Stored CLI"),
          createdAt: Date.now(),
          idleTtlMs: 60_000,
          expiresAt: Date.now() + 60_000,
          metadata: {},
        },
        "create",
        0,
      );
      const d = await authorizeDevice(server, { client_id: "dyn-server" });
      expect(d.user_code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      const unknown = await server.post("/oauth/device/authorize", { client_id: "dyn-nobody" });
      expect(unknown.status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
