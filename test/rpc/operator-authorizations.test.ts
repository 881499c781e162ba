/**
 * ClientService's operator listings (README "Operator listings"): pending
 * requests listed by client and cancelled by `pending_id`, approved grants
 * listed by client or by subject and revoked by `family_id`, with the admin
 * credential only. On one memory instance, and on two instances sharing one
 * real Redis, where what is done through B holds on A at its next request.
 * Pages are bounded by HANDOFF_ADMIN_MAX_PAGE_SIZE (3 here); no listing
 * shows a device code, a user code or a token. Over Connect and gRPC.
 */

import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClientService,
  ListGrantsResponseSchema,
  ListPendingAuthorizationsResponseSchema,
} from "../../gen/handoff/v1/client_service_pb.js";
import { Decision, DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";
import {
  authorizeDevice,
  pollToken,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { bearer, rpcTransports } from "../support/rpc-clients.js";

const ADMIN_TOKEN = "test-admin-token-Vq8sK2mZ7xR4pL9wN3cT6yB1hJ5dF0gA";
const TRANSPORTS = ["Connect over HTTP/1.1", "gRPC over h2c"] as const;
/** HANDOFF_ADMIN_MAX_PAGE_SIZE of these servers. */
const MAX_PAGE = 3;
/** How often an open WaitToken stream re-checks its request unless woken (HANDOFF_WAIT_RECHECK_MS). */
const WAIT_RECHECK_MS = 20_000;

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

type Admin = ReturnType<typeof adminAt>;

/** Every page of a client's pending requests, and the page sizes seen. */
async function allPending(admin: Admin, clientId: string, pageSize = 0) {
  const sizes: number[] = [];
  const items = [];
  let pageToken = "";
  do {
    const page = await admin.listPendingAuthorizations({ clientId, pageSize, pageToken });
    sizes.push(page.authorizations.length);
    items.push(...page.authorizations);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && sizes.length < 50);
  return { items, sizes };
}

/** Every page of one owner's grants, and the page sizes seen. */
async function allGrants(
  admin: Admin,
  owner: { clientId: string } | { subject: string },
  pageSize = 0,
) {
  const sizes: number[] = [];
  const items = [];
  let pageToken = "";
  do {
    const page = await admin.listGrants({ ...owner, pageSize, pageToken });
    sizes.push(page.grants.length);
    items.push(...page.grants);
    pageToken = page.nextPageToken;
  } while (pageToken !== "" && sizes.length < 50);
  return { items, sizes };
}

const ms = (t: { seconds: bigint; nanos: number } | undefined) =>
  t === undefined ? Number.NaN : Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);

/** The secrets of a flow, in every spelling a leak could take. */
function spellings(...secrets: string[]): string[] {
  return secrets.flatMap((s) => [s, s.replaceAll("-", ""), s.toLowerCase()]);
}

function introspect(s: TestServer, token: string) {
  return s.post("/oauth/introspect", { token }, { authorization: `Bearer ${SERVICE_TOKEN}` });
}

function refresh(s: TestServer, clientId: string, refreshToken: string) {
  return s.post("/oauth/token", {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: clientId,
  });
}

interface Issued {
  device_code: string;
  user_code: string;
  access_token: string;
  refresh_token: string;
}

/**
 * A device flow started and approved for `subject` on `on`, redeemed on
 * `redeemOn`: its tokens name `redeemOn`'s issuer, where they are introspected.
 */
async function grant(
  on: TestServer,
  redeemOn: TestServer,
  transport: string,
  clientId: string,
  subject: string,
): Promise<Issued> {
  const started = await authorizeDevice(on, { client_id: clientId, scope: "read" });
  await deviceAt(on, transport).approve({
    userCode: started.user_code,
    subject,
    decision: Decision.APPROVE,
  });
  const res = await pollToken(redeemOn, started.device_code, clientId);
  expect(res.status).toBe(200);
  const t = (await res.json()) as { access_token: string; refresh_token: string };
  return { ...started, ...t };
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

      it(`${transport}: pending requests listed by client on B, paged; one cancelled by pending_id on B is access_denied on A`, async () => {
        const clientId = `pending-${tag}`;
        await adminAt(a, transport).createClient({ clientId, scopes: ["read"] });
        const started = [];
        for (let i = 0; i < 4; i++) {
          started.push(await authorizeDevice(a, { client_id: clientId, scope: "read" }));
        }
        // Another client's request is not listed.
        await authorizeDevice(a, { client_id: "public-cli" });
        const admin = adminAt(b, transport);

        // page_size 0 (the default, 100) and 100 are capped at the maximum; 2 is 2.
        const first = await allPending(admin, clientId);
        expect(first.sizes).toEqual([MAX_PAGE, 1]);
        expect((await allPending(admin, clientId, 100)).sizes).toEqual([MAX_PAGE, 1]);
        const byTwo = await allPending(admin, clientId, 2);
        expect(byTwo.sizes).toEqual([2, 2]);
        const ids = first.items.map((p) => p.pendingId);
        expect(new Set(ids).size).toBe(4);
        expect(byTwo.items.map((p) => p.pendingId)).toEqual(ids);
        const created = first.items.map((p) => ms(p.createdAt));
        expect(created).toEqual([...created].sort((x, y) => y - x));
        for (const p of first.items) {
          expect(p).toMatchObject({ clientId, scopes: ["read"], requesterAddress: "127.0.0.1" });
          expect(ms(p.expiresAt)).toBeGreaterThan(ms(p.createdAt));
        }

        // No code in the listing: an operator's id cannot poll or approve.
        const listed = toJsonString(
          ListPendingAuthorizationsResponseSchema,
          await admin.listPendingAuthorizations({ clientId }),
        );
        for (const s of spellings(...started.flatMap((f) => [f.device_code, f.user_code]))) {
          expect(listed).not.toContain(s);
        }

        // Nor the routing tag a device code begins with: 24 bits of a hash of the user code.
        for (const id of ids) {
          expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
          for (const f of started) expect(id).not.toContain(f.device_code.split(".")[0]);
        }

        // Cancel the newest's neighbour by its id on B; exactly one device polling on A is refused.
        const target = first.items[1]?.pendingId ?? "";
        const cancelled = await admin.cancelDeviceAuthorization({ pendingId: target });
        expect(cancelled.clientId).toBe(clientId);
        const answers = await Promise.all(
          started.map(
            async (f) =>
              ((await (await pollToken(a, f.device_code, clientId)).json()) as { error: string })
                .error,
          ),
        );
        expect(answers.filter((e) => e === "access_denied")).toHaveLength(1);
        // The others are still pending, and no longer list the cancelled one.
        expect(answers.filter((e) => e === "authorization_pending")).toHaveLength(3);
        const after = await allPending(adminAt(a, transport), clientId);
        expect(after.items.map((p) => p.pendingId)).toEqual(ids.filter((id) => id !== target));

        // Again: already decided. An unknown or malformed id: not found.
        expect(await codeOf(admin.cancelDeviceAuthorization({ pendingId: target }))).toBe(
          Code.FailedPrecondition,
        );
        for (const unknown of [
          "AAAAAAAAAAAAAAAAAAAA",
          "AAAAAAAAAAAAAAAAAAAAAA",
          `${target[0] === "A" ? "B" : "A"}${target.slice(1)}`,
        ]) {
          expect(await codeOf(admin.cancelDeviceAuthorization({ pendingId: unknown }))).toBe(
            Code.NotFound,
          );
        }
        expect(await codeOf(admin.cancelDeviceAuthorization({ pendingId: "not-an-id" }))).toBe(
          Code.NotFound,
        );
        // Exactly one of user_code and pending_id.
        expect(await codeOf(admin.cancelDeviceAuthorization({}))).toBe(Code.InvalidArgument);
        expect(
          await codeOf(
            admin.cancelDeviceAuthorization({
              pendingId: ids[0] ?? "x",
              userCode: started[0]?.user_code ?? "x",
            }),
          ),
        ).toBe(Code.InvalidArgument);
        expect((await allPending(admin, clientId)).items).toHaveLength(3);

        const log = a === b ? a.logs() : a.logs() + b.logs();
        expect(log.split(`"event":"denied","client_id":"${clientId}"`).length - 1).toBe(1);
      });

      it(`${transport}: cancelled by pending_id on B, an open WaitToken stream on A ends at once with access_denied`, async () => {
        const clientId = `waiting-${tag}`;
        await adminAt(a, transport).createClient({ clientId });
        const started = await deviceAt(a, transport).authorize({ clientId });
        const stream = deviceAt(a, transport).waitToken({
          clientId,
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
        const admin = adminAt(b, transport);
        const [pending] = (await admin.listPendingAuthorizations({ clientId })).authorizations;
        const at = Date.now();
        await admin.cancelDeviceAuthorization({ pendingId: pending?.pendingId ?? "" });
        // Woken by the decision, well before the stream's re-check (WAIT_RECHECK_MS).
        expect(await ended).toBe(Code.PermissionDenied);
        expect(Date.now() - at).toBeLessThan(WAIT_RECHECK_MS / 2);
        expect(events).not.toContain("token");
      });

      it(`${transport}: grants listed by client and by subject on B, paged; one revoked by family_id on B is inactive on A at once`, async () => {
        const clientId = `granted-${tag}`;
        const carol = `carol-${tag}`;
        await adminAt(a, transport).createClient({ clientId, scopes: ["read"] });
        const issued: Issued[] = [];
        for (const subject of [carol, carol, carol, `dave-${tag}`]) {
          issued.push(await grant(b, a, transport, clientId, subject));
        }
        // Carol's grant to another client is listed by subject, not by client.
        const other = await grant(a, a, transport, "public-cli", carol);
        const admin = adminAt(b, transport);
        const familyOf = (t: Issued) => t.refresh_token.split(".")[0] as string;

        const byClient = await allGrants(admin, { clientId }, 100);
        expect(byClient.sizes).toEqual([MAX_PAGE, 1]);
        expect(new Set(byClient.items.map((g) => g.familyId))).toEqual(
          new Set(issued.map(familyOf)),
        );
        expect((await allGrants(admin, { clientId }, 1)).sizes).toEqual([1, 1, 1, 1]);
        const created = byClient.items.map((g) => ms(g.createdAt));
        expect(created).toEqual([...created].sort((x, y) => y - x));
        for (const g of byClient.items) {
          expect(g).toMatchObject({ clientId, scopes: ["read"] });
          expect(ms(g.expiresAt)).toBeGreaterThan(Date.now());
          expect(ms(g.refreshedAt)).toBe(ms(g.createdAt));
        }

        const bySubject = await allGrants(admin, { subject: carol }, 2);
        expect(bySubject.sizes).toEqual([2, 2]);
        expect(new Set(bySubject.items.map((g) => g.familyId))).toEqual(
          new Set([...issued.slice(0, 3), other].map(familyOf)),
        );
        expect(bySubject.items.every((g) => g.subject === carol)).toBe(true);
        expect(bySubject.items.find((g) => g.familyId === familyOf(other))?.clientId).toBe(
          "public-cli",
        );
        expect((await allGrants(admin, { subject: carol })).sizes).toEqual([MAX_PAGE, 1]);

        // No code and no token in the listings.
        const listed = [
          toJsonString(ListGrantsResponseSchema, await admin.listGrants({ clientId })),
          toJsonString(ListGrantsResponseSchema, await admin.listGrants({ subject: carol })),
        ].join("\n");
        for (const t of [...issued, other]) {
          for (const s of spellings(t.device_code, t.user_code, t.access_token, t.refresh_token)) {
            expect(listed).not.toContain(s);
          }
          expect(listed).not.toContain(t.refresh_token.split(".")[1]);
        }

        // Revoked by its id on B: on A, at once, its access token is inactive and it no longer refreshes.
        const [gone, kept] = [issued[0] as Issued, issued[1] as Issued];
        expect(await (await introspect(a, gone.access_token)).json()).toMatchObject({
          active: true,
        });
        expect(await codeOf(admin.revokeGrant({ familyId: familyOf(gone) }))).toBe("ok");
        // The audit line names whose grant it was, and that an operator revoked it.
        const revokedLines = b
          .logs()
          .split("\n")
          .filter((l) => l.includes('"event":"revoked"') && l.includes('"by":"service"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(revokedLines).toContainEqual(
          expect.objectContaining({
            client_id: clientId,
            subject: carol,
            token_type: "refresh_token",
          }),
        );
        expect(await (await introspect(a, gone.access_token)).json()).toEqual({ active: false });
        const refused = await refresh(a, clientId, gone.refresh_token);
        expect(refused.status).toBe(400);
        expect(await refused.json()).toMatchObject({ error: "invalid_grant" });
        // The others are untouched.
        expect(await (await introspect(a, kept.access_token)).json()).toMatchObject({
          active: true,
        });
        expect((await refresh(a, clientId, kept.refresh_token)).status).toBe(200);
        const left = await allGrants(adminAt(a, transport), { clientId });
        expect(left.items.map((g) => g.familyId)).not.toContain(familyOf(gone));
        expect(left.items).toHaveLength(3);
        const refreshedOne = left.items.find((g) => g.familyId === familyOf(kept));
        expect(ms(refreshedOne?.refreshedAt)).toBeGreaterThanOrEqual(ms(refreshedOne?.createdAt));

        // Again, or an id that never was: not found. Exactly one of token and family_id.
        expect(await codeOf(admin.revokeGrant({ familyId: familyOf(gone) }))).toBe(Code.NotFound);
        expect(await codeOf(admin.revokeGrant({ familyId: "AAAAAAAAAAAAAAAAAAAAAA" }))).toBe(
          Code.NotFound,
        );
        expect(await codeOf(admin.revokeGrant({}))).toBe(Code.InvalidArgument);
        expect(
          await codeOf(admin.revokeGrant({ familyId: familyOf(kept), token: kept.refresh_token })),
        ).toBe(Code.InvalidArgument);
        expect((await refresh(a, clientId, kept.refresh_token)).status).toBe(400);
      });

      it(`${transport}: a bad page token or page size, or no owner, is INVALID_ARGUMENT and changes nothing`, async () => {
        const clientId = `paging-${tag}`;
        await adminAt(a, transport).createClient({ clientId, scopes: ["read"] });
        for (let i = 0; i < 4; i++) await authorizeDevice(a, { client_id: clientId });
        const g = await grant(b, a, transport, clientId, `erin-${tag}`);
        const admin = adminAt(b, transport);
        const before = await allPending(admin, clientId);
        const grantsBefore = await allGrants(admin, { clientId });
        const first = await admin.listPendingAuthorizations({ clientId });
        expect(first.nextPageToken).not.toBe("");

        const tooLong = Buffer.from(`1.${"x".repeat(300)}`).toString("base64url");
        for (const pageToken of ["!!!", "bm90LWEtY3Vyc29y", tooLong]) {
          expect(
            await codeOf(admin.listPendingAuthorizations({ clientId, pageToken })),
            pageToken,
          ).toBe(Code.InvalidArgument);
          expect(await codeOf(admin.listGrants({ clientId, pageToken })), pageToken).toBe(
            Code.InvalidArgument,
          );
        }
        expect(await codeOf(admin.listPendingAuthorizations({ clientId, pageSize: -1 }))).toBe(
          Code.InvalidArgument,
        );
        expect(await codeOf(admin.listGrants({ clientId, pageSize: -1 }))).toBe(
          Code.InvalidArgument,
        );
        expect(await codeOf(admin.listPendingAuthorizations({}))).toBe(Code.InvalidArgument);
        expect(await codeOf(admin.listGrants({}))).toBe(Code.InvalidArgument);
        expect(await codeOf(admin.listGrants({ clientId, subject: `erin-${tag}` }))).toBe(
          Code.InvalidArgument,
        );

        // The same pages as before; the grant still refreshes.
        expect(await allPending(admin, clientId)).toEqual(before);
        expect(await allGrants(admin, { clientId })).toEqual(grantsBefore);
        expect((await refresh(a, clientId, g.refresh_token)).status).toBe(200);
      });

      it(`${transport}: a missing or wrong admin token, or the service token, is UNAUTHENTICATED and changes nothing`, async () => {
        const clientId = `guarded-${tag}`;
        await adminAt(a, transport).createClient({ clientId, scopes: ["read"] });
        await authorizeDevice(a, { client_id: clientId });
        const g = await grant(a, a, transport, clientId, `frank-${tag}`);
        const admin = adminAt(b, transport);
        const pendingId =
          (await admin.listPendingAuthorizations({ clientId })).authorizations[0]?.pendingId ?? "";
        expect(pendingId).not.toBe("");
        const familyId = g.refresh_token.split(".")[0] as string;

        const refused = [
          createClient(ClientService, rpcTransports(b.issuer)[transport] as never),
          adminAt(b, transport, `${ADMIN_TOKEN}x`),
          adminAt(b, transport, SERVICE_TOKEN),
        ];
        for (const c of refused) {
          expect(await codeOf(c.listPendingAuthorizations({ clientId }))).toBe(
            Code.Unauthenticated,
          );
          expect(await codeOf(c.listGrants({ clientId }))).toBe(Code.Unauthenticated);
          expect(await codeOf(c.listGrants({ subject: `frank-${tag}` }))).toBe(
            Code.Unauthenticated,
          );
          expect(await codeOf(c.cancelDeviceAuthorization({ pendingId }))).toBe(
            Code.Unauthenticated,
          );
          expect(await codeOf(c.revokeGrant({ familyId }))).toBe(Code.Unauthenticated);
        }
        // Still pending, still granted.
        expect((await admin.listPendingAuthorizations({ clientId })).authorizations).toHaveLength(
          1,
        );
        expect((await admin.listGrants({ clientId })).grants.map((x) => x.familyId)).toEqual([
          familyId,
        ]);
        expect(await (await introspect(a, g.access_token)).json()).toMatchObject({ active: true });
      });
    }
  });
}

suite("Operator listings on one memory instance", async () => {
  const s = await startTestServer({
    adminToken: ADMIN_TOKEN,
    adminMaxPageSize: MAX_PAGE,
    waitRecheckMs: WAIT_RECHECK_MS,
  });
  return { a: s, b: s, stop: () => s.close() };
});

suite("Operator listings on two instances sharing one Redis", async () => {
  const redis: RedisProcess = await startRedis();
  const options = {
    adminToken: ADMIN_TOKEN,
    adminMaxPageSize: MAX_PAGE,
    waitRecheckMs: WAIT_RECHECK_MS,
    redis: { url: redis.url },
  };
  const [a, b] = await Promise.all([startTestServer(options), startTestServer(options)]);
  return {
    a,
    b,
    stop: async () => {
      await Promise.all([a.close(), b.close()]);
      await redis.stop();
    },
  };
});
