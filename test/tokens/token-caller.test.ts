/** Who may revoke and introspect (RFC 7009 §2.1, RFC 7662 §2.1). */
import { describe, expect, it } from "vitest";
import { StaticClientRegistry } from "../../src/config/clients-file.js";
import { authenticateCaller } from "../../src/tokens/token-caller.js";
import { SERVICE_TOKEN } from "../support/handoff-server.js";
import { AGENT_SECRET, LIFECYCLE_CLIENTS } from "./token-fixtures.js";

const registry = new StaticClientRegistry(LIFECYCLE_CLIENTS);
type Creds = Parameters<typeof authenticateCaller>[2];
const call = (creds: Creds, requireSecret = true) =>
  authenticateCaller(registry, SERVICE_TOKEN, creds, { requireSecret });

describe("authenticateCaller", () => {
  it("the service credential makes a service caller; a wrong or unconfigured one is invalid_client", async () => {
    expect(await call({ bearer: SERVICE_TOKEN })).toEqual({ kind: "service" });
    await expect(call({ bearer: `${SERVICE_TOKEN}x` })).rejects.toMatchObject({
      code: "invalid_client",
    });
    // With no service token configured, no bearer is let in.
    await expect(
      authenticateCaller(registry, undefined, { bearer: SERVICE_TOKEN }, { requireSecret: true }),
    ).rejects.toMatchObject({ code: "invalid_client" });
  });

  it("no credentials at all is invalid_client (401), not invalid_request", async () => {
    await expect(call({})).rejects.toMatchObject({ code: "invalid_client" });
  });

  it("RFC 7662 §2.1: introspection refuses public clients; revocation accepts them (RFC 7009 §5)", async () => {
    const pub = { client: { clientId: "public-cli", method: "none" as const } };
    await expect(call(pub, true)).rejects.toMatchObject({ code: "invalid_client" });
    expect(await call(pub, false)).toMatchObject({ kind: "client", client: { id: "public-cli" } });
    const conf = {
      client: {
        clientId: "refreshing-agent",
        clientSecret: AGENT_SECRET,
        method: "client_secret_post" as const,
      },
    };
    expect(await call(conf, true)).toMatchObject({ kind: "client" });
  });
});
