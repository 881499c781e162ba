/**
 * ClientService (README "Administering clients") against real servers: on
 * one memory instance, and on two instances sharing one real Redis, where a
 * change made through A holds on B at its next request (and the other way
 * round), because clients are read from the store on every authentication.
 * Over Connect and gRPC.
 */

import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClientService,
  ClientSource,
  GetClientResponseSchema,
} from "../../gen/handoff/v1/client_service_pb.js";
import { Decision, DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";
import { ALICE, FormClient, testUsers } from "../pages/page-fixtures.js";
import {
  DEVICE_GRANT,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { bearer, rpcTransports } from "../support/rpc-clients.js";

const ADMIN_TOKEN = "test-admin-token-Vq8sK2mZ7xR4pL9wN3cT6yB1hJ5dF0gA";
const TRANSPORTS = ["Connect over HTTP/1.1", "gRPC over h2c"] as const;

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return ConnectError.from(e).code;
  }
  return "ok";
};

const adminAt = (s: TestServer, transport: string, token = ADMIN_TOKEN) =>
  createClient(ClientService, rpcTransports(s.issuer, [bearer(token)])[transport] as never);

const deviceAt = (s: TestServer, transport: string) =>
  createClient(
    DeviceAuthService,
    rpcTransports(s.issuer, [bearer(SERVICE_TOKEN)])[transport] as never,
  );

async function authorize(s: TestServer, clientId: string, secret?: string) {
  return s.post("/oauth/device/authorize", {
    client_id: clientId,
    ...(secret === undefined ? {} : { client_secret: secret }),
  });
}

function poll(s: TestServer, clientId: string, secret: string, deviceCode: string) {
  return s.post("/oauth/token", {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: clientId,
    client_secret: secret,
  });
}

function refresh(s: TestServer, clientId: string, secret: string, refreshToken: string) {
  return s.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: clientId,
    client_secret: secret,
  });
}

function suite(
  name: string,
  start: () => Promise<{ a: TestServer; b: TestServer; stop(): Promise<void> }>,
) {
  describe(name, () => {
    let a: TestServer;
    let b: TestServer;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      ({ a, b, stop } = await start());
    });
    afterAll(() => stop());

    for (const transport of TRANSPORTS) {
      const tag = transport.startsWith("gRPC") ? "grpc" : "connect";

      it(`${transport}: created on A works on B; rotated and disabled on B, refused on A at once`, async () => {
        const id = `admin-made-${tag}`;
        const created = await adminAt(a, transport).createClient({
          clientId: id,
          name: "Build agent",
          confidential: true,
          scopes: ["read", "write"],
          defaultScopes: ["read"],
        });
        expect(created.client).toMatchObject({
          clientId: id,
          confidential: true,
          disabled: false,
          source: ClientSource.ADMIN,
          grantTypes: [DEVICE_GRANT, "refresh_token"],
          defaultScopes: ["read"],
        });
        const secret = created.clientSecret;
        expect(secret.length).toBeGreaterThanOrEqual(43);
        // The secret is returned once: Get never shows it.
        expect(
          toJsonString(
            GetClientResponseSchema,
            await adminAt(b, transport).getClient({ clientId: id }),
          ),
        ).not.toContain(secret);

        // A device authorization with it, on B, at once; approved and redeemed.
        const started = await authorize(b, id, secret);
        expect(started.status).toBe(200);
        const first = (await started.json()) as { device_code: string; user_code: string };
        await deviceAt(b, transport).approve({
          userCode: first.user_code,
          subject: "alice",
          decision: Decision.APPROVE,
        });
        const tokens = await poll(a, id, secret, first.device_code);
        expect(tokens.status).toBe(200);
        const { refresh_token } = (await tokens.json()) as { refresh_token: string };
        expect(refresh_token).toBeTruthy();
        // A second request, left pending.
        const pending = (await (await authorize(a, id, secret)).json()) as { device_code: string };

        // Rotated on B: the old secret is refused on A, the new one accepted.
        const rotated = await adminAt(b, transport).rotateClientSecret({ clientId: id });
        const next = rotated.clientSecret;
        expect(next).not.toBe(secret);
        expect((await authorize(a, id, secret)).status).toBe(401);
        expect((await authorize(a, id, next)).status).toBe(200);
        const refreshed = await refresh(a, id, next, refresh_token);
        expect(refreshed.status).toBe(200);
        const { refresh_token: current } = (await refreshed.json()) as { refresh_token: string };

        // Disabled on B: on A, at once, no authorization, no poll of the pending code, no refresh.
        const disabled = await adminAt(b, transport).disableClient({ clientId: id });
        expect(disabled.client?.disabled).toBe(true);
        expect((await authorize(a, id, next)).status).toBe(401);
        const refusedPoll = await poll(a, id, next, pending.device_code);
        expect(refusedPoll.status).toBe(401);
        expect(await refusedPoll.json()).toMatchObject({ error: "invalid_client" });
        expect((await refresh(a, id, next, current)).status).toBe(401);
        // Over RPC too.
        expect(
          await codeOf(deviceAt(a, transport).authorize({ clientId: id, clientSecret: next })),
        ).toBe(Code.Unauthenticated);

        // An update does not re-enable it; Enable does.
        const updated = await adminAt(a, transport).updateClient({
          clientId: id,
          name: "Build agent 2",
          updateMask: { paths: ["name"] },
        });
        expect(updated.client).toMatchObject({ name: "Build agent 2", disabled: true });
        await adminAt(a, transport).enableClient({ clientId: id });
        expect((await authorize(b, id, next)).status).toBe(200);

        // Deleted on A: unknown on B.
        await adminAt(a, transport).deleteClient({ clientId: id });
        expect((await authorize(b, id, next)).status).toBe(401);
        expect(await codeOf(adminAt(b, transport).getClient({ clientId: id }))).toBe(Code.NotFound);
        const log = a.logs() + b.logs();
        for (const change of [
          "created",
          "secret_rotated",
          "disabled",
          "updated",
          "enabled",
          "deleted",
        ]) {
          expect(log).toContain(
            `"event":"client_changed","client_id":"${id}","change":"${change}"`,
          );
        }
        expect(log).not.toContain(secret);
        expect(log).not.toContain(next);
      });

      it(`${transport}: an open WaitToken stream of a client disabled meanwhile gets no token`, async () => {
        const id = `streaming-${tag}`;
        await adminAt(a, transport).createClient({ clientId: id });
        const started = await deviceAt(a, transport).authorize({ clientId: id });
        const stream = deviceAt(a, transport).waitToken({
          clientId: id,
          deviceCode: started.deviceCode,
        });
        const events: string[] = [];
        const ended = (async () => {
          try {
            for await (const m of stream) events.push(m.event.case ?? "");
            return "ended";
          } catch (e) {
            return ConnectError.from(e).code;
          }
        })();
        while (events.length === 0) await new Promise((r) => setTimeout(r, 20));
        await adminAt(b, transport).disableClient({ clientId: id });
        // The approval is refused now; the stream ends at its next re-check.
        expect(
          await codeOf(
            deviceAt(b, transport).approve({
              userCode: started.userCode,
              subject: "alice",
              decision: Decision.APPROVE,
            }),
          ),
        ).toBe(Code.PermissionDenied);
        expect(await ended).toBe(Code.Unauthenticated);
        expect(events).not.toContain("token");
      });

      it(`${transport}: disabled on B, a pending request is no longer approved on A, on the page or over RPC`, async () => {
        const id = `consent-${tag}`;
        await adminAt(a, transport).createClient({ clientId: id, name: "Consent Agent" });
        const onPage = (await (await authorize(a, id)).json()) as { user_code: string };
        const overRpc = (await (await authorize(a, id)).json()) as { user_code: string };
        const denied = (await (await authorize(a, id)).json()) as { user_code: string };
        const person = new FormClient(a.issuer);
        await person.signIn(ALICE);
        // The consent screen is shown while the client is enabled.
        expect(
          (await person.post("/device", { _csrf: person.csrf(), user_code: onPage.user_code }))
            .status,
        ).toBe(200);
        expect(person.lastPage).toContain("Consent Agent");
        const csrf = person.csrf();

        await adminAt(b, transport).disableClient({ clientId: id });
        // The consent screen that is already open: Approve is refused.
        const approved = await person.post("/device/decision", {
          _csrf: csrf,
          user_code: onPage.user_code,
          decision: "approve",
        });
        expect(approved.status).toBe(403);
        expect(person.lastPage).toContain("This application is disabled");
        // Entering the code again shows no consent screen.
        const entered = await person.post("/device", { _csrf: csrf, user_code: onPage.user_code });
        expect(entered.status).toBe(403);
        expect(person.lastPage).toContain("This application is disabled");
        expect(person.lastPage).not.toContain('value="approve"');
        // Over RPC: PERMISSION_DENIED, for Approve and for the lookup a consent UI makes first.
        const device = deviceAt(a, transport);
        const refused = await device
          .approve({ userCode: overRpc.user_code, subject: "alice", decision: Decision.APPROVE })
          .catch((e) => ConnectError.from(e));
        expect(refused).toBeInstanceOf(ConnectError);
        expect((refused as ConnectError).code).toBe(Code.PermissionDenied);
        expect((refused as ConnectError).rawMessage).toContain("the client is disabled");
        expect(await codeOf(device.getDeviceAuthorization({ userCode: overRpc.user_code }))).toBe(
          Code.PermissionDenied,
        );
        // A denial is still taken.
        expect(
          await codeOf(
            device.approve({
              userCode: denied.user_code,
              subject: "alice",
              decision: Decision.DENY,
            }),
          ),
        ).toBe("ok");
        // Enabled again, the same pending request can be approved.
        await adminAt(b, transport).enableClient({ clientId: id });
        expect(
          await codeOf(
            device.approve({
              userCode: overRpc.user_code,
              subject: "alice",
              decision: Decision.APPROVE,
            }),
          ),
        ).toBe("ok");
        // One approval was recorded (the last one), one denial.
        const log = a === b ? a.logs() : a.logs() + b.logs();
        expect(log.split(`"event":"approved","client_id":"${id}"`).length - 1).toBe(1);
        expect(log.split(`"event":"denied","client_id":"${id}"`).length - 1).toBe(1);
      });

      it(`${transport}: disabled on B, the code grant's open consent screen on A is refused, never redirected`, async () => {
        const id = `code-consent-${tag}`;
        await adminAt(a, transport).createClient({
          clientId: id,
          name: "Code Consent App",
          grantTypes: ["authorization_code"],
          redirectUris: ["http://127.0.0.1/callback"],
        });
        const query = new URLSearchParams({
          response_type: "code",
          client_id: id,
          redirect_uri: "http://127.0.0.1:51234/callback",
          code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
          code_challenge_method: "S256",
          state: "st-1",
        }).toString();
        const person = new FormClient(a.issuer);
        await person.signIn(ALICE);
        expect((await person.get(`/device/authorize?${query}`)).status).toBe(200);
        expect(person.lastPage).toContain("Code Consent App");
        const csrf = person.csrf();

        await adminAt(b, transport).disableClient({ clientId: id });
        const approved = await person.post("/device/authorize", {
          _csrf: csrf,
          request: query,
          decision: "approve",
        });
        expect(approved.status).toBe(400);
        expect(approved.headers.get("location")).toBeNull();
        expect(person.lastPage).toContain("the client is disabled");
        expect((await person.get(`/device/authorize?${query}`)).status).toBe(400);
        expect(person.lastPage).toContain("the client is disabled");
      });

      it(`${transport}: a missing or wrong admin token, or the service token, is UNAUTHENTICATED`, async () => {
        const plain = createClient(ClientService, rpcTransports(a.issuer)[transport] as never);
        expect(await codeOf(plain.listClients({}))).toBe(Code.Unauthenticated);
        expect(await codeOf(adminAt(a, transport, `${ADMIN_TOKEN}x`).listClients({}))).toBe(
          Code.Unauthenticated,
        );
        expect(
          await codeOf(
            adminAt(a, transport, SERVICE_TOKEN).createClient({ clientId: `svc-${tag}` }),
          ),
        ).toBe(Code.Unauthenticated);
        // Nothing was created by the refused call.
        expect(await codeOf(adminAt(a, transport).getClient({ clientId: `svc-${tag}` }))).toBe(
          Code.NotFound,
        );
      });

      it(`${transport}: clients-file clients are read-only; bad metadata is INVALID_ARGUMENT`, async () => {
        const admin = adminAt(a, transport);
        const file = await admin.getClient({ clientId: "public-cli" });
        expect(file.client?.source).toBe(ClientSource.FILE);
        for (const call of [
          () => admin.disableClient({ clientId: "public-cli" }),
          () => admin.rotateClientSecret({ clientId: "confidential-agent" }),
          () => admin.deleteClient({ clientId: "public-cli" }),
          () =>
            admin.updateClient({
              clientId: "public-cli",
              name: "x",
              updateMask: { paths: ["name"] },
            }),
        ]) {
          expect(await codeOf(call())).toBe(Code.FailedPrecondition);
        }
        expect(await codeOf(admin.createClient({ clientId: "public-cli" }))).toBe(
          Code.AlreadyExists,
        );
        expect(
          await codeOf(
            admin.createClient({
              clientId: `bad-uri-${tag}`,
              grantTypes: ["authorization_code"],
              redirectUris: ["http://evil.example/cb"],
            }),
          ),
        ).toBe(Code.InvalidArgument);
        expect(
          await codeOf(
            admin.createClient({ clientId: `bad-grant-${tag}`, grantTypes: ["password"] }),
          ),
        ).toBe(Code.InvalidArgument);
        expect(await codeOf(admin.createClient({ clientId: "https://x.example/c" }))).toBe(
          Code.InvalidArgument,
        );
        expect(await codeOf(admin.getClient({ clientId: `bad-grant-${tag}` }))).toBe(Code.NotFound);
        // A public client has no secret to rotate.
        await admin.createClient({ clientId: `public-${tag}` });
        expect(await codeOf(admin.rotateClientSecret({ clientId: `public-${tag}` }))).toBe(
          Code.FailedPrecondition,
        );
        expect((await authorize(b, `public-${tag}`)).status).toBe(200);
      });

      it(`${transport}: List pages over the clients file and the store in id order`, async () => {
        const admin = adminAt(b, transport);
        for (const n of ["1", "2", "3"]) await admin.createClient({ clientId: `page-${tag}-${n}` });
        const ids: string[] = [];
        let token = "";
        let pages = 0;
        do {
          const page = await admin.listClients({ pageSize: 2, pageToken: token });
          expect(page.clients.length).toBeLessThanOrEqual(2);
          ids.push(...page.clients.map((c) => c.clientId));
          token = page.nextPageToken;
          pages++;
        } while (token !== "" && pages < 100);
        expect(ids).toEqual([...ids].sort());
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ["public-cli", "confidential-agent", `page-${tag}-1`, `page-${tag}-3`]) {
          expect(ids).toContain(id);
        }
      });

      it(`${transport}: operators cancel a pending request and revoke an approved grant`, async () => {
        const admin = adminAt(a, transport);
        const cancelled = (await (await authorize(a, "public-cli")).json()) as {
          device_code: string;
          user_code: string;
        };
        const c = await admin.cancelDeviceAuthorization({ userCode: cancelled.user_code });
        expect(c.clientId).toBe("public-cli");
        const denied = await b.post("/oauth/token", {
          grant_type: DEVICE_GRANT,
          device_code: cancelled.device_code,
          client_id: "public-cli",
        });
        expect(await denied.json()).toMatchObject({ error: "access_denied" });
        expect(
          await codeOf(admin.cancelDeviceAuthorization({ userCode: cancelled.user_code })),
        ).toBe(Code.FailedPrecondition);

        const approved = (await (await authorize(a, "public-cli")).json()) as {
          device_code: string;
          user_code: string;
        };
        await deviceAt(a, transport).approve({
          userCode: approved.user_code,
          subject: "bob",
          decision: Decision.APPROVE,
        });
        const issued = await b.post("/oauth/token", {
          grant_type: DEVICE_GRANT,
          device_code: approved.device_code,
          client_id: "public-cli",
        });
        const { refresh_token } = (await issued.json()) as { refresh_token: string };
        await adminAt(b, transport).revokeGrant({ token: refresh_token });
        const after = await a.post("/oauth/token", {
          grant_type: "refresh_token",
          refresh_token,
          client_id: "public-cli",
        });
        expect(await after.json()).toMatchObject({ error: "invalid_grant" });
        expect(await codeOf(admin.revokeGrant({ token: refresh_token }))).toBe(Code.NotFound);
      });
    }
  });
}

suite("ClientService on one memory instance", async () => {
  const s = await startTestServer({ adminToken: ADMIN_TOKEN, authenticator: await testUsers() });
  return { a: s, b: s, stop: () => s.close() };
});

suite("ClientService on two instances sharing one Redis", async () => {
  const redis: RedisProcess = await startRedis();
  const authenticator = await testUsers();
  const [a, b] = await Promise.all([
    startTestServer({ adminToken: ADMIN_TOKEN, authenticator, redis: { url: redis.url } }),
    startTestServer({ adminToken: ADMIN_TOKEN, authenticator, redis: { url: redis.url } }),
  ]);
  return {
    a,
    b,
    stop: async () => {
      await Promise.all([a.close(), b.close()]);
      await redis.stop();
    },
  };
});

describe("ClientService without HANDOFF_ADMIN_TOKEN", () => {
  it("answers UNAUTHENTICATED to every call, the service token included", async () => {
    const s = await startTestServer();
    try {
      for (const token of [SERVICE_TOKEN, ADMIN_TOKEN]) {
        const admin = adminAt(s, "Connect over HTTP/1.1", token);
        expect(await codeOf(admin.listClients({}))).toBe(Code.Unauthenticated);
        expect(await codeOf(admin.createClient({ clientId: "x" }))).toBe(Code.Unauthenticated);
      }
    } finally {
      await s.close();
    }
  });
});
