/**
 * Hostile messages to DeviceAuthService through every transport:
 * random, huge and control-character strings, lone surrogates, long repeated
 * fields, unknown enum numbers and user codes in every shape. Each call fails
 * with a client-error code (never Internal or Unknown) or succeeds, only for
 * input that is valid; /healthz answers after each case.
 */
import { Code, createClient, type Transport } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { runs } from "./support/fuzz-runs.js";
import {
  anyString,
  deviceCodeShape,
  fuzzString,
  hostileChar,
  hostileString,
  userCodeShape,
} from "./support/hostile-values.js";
import { expectClientError, outcome, transports } from "./support/rpc-outcome.js";

let server: TestServer;
let byName: Record<string, Transport>;
beforeAll(async () => {
  server = await startTestServer({ bodyLimit: 4096 });
  byName = transports(server.issuer);
});
afterAll(async () => {
  expect(server.logs()).not.toMatch(/"level":50/);
  await server.close();
});

async function expectHealthy(): Promise<void> {
  expect((await fetch(`${server.issuer}/healthz`)).status).toBe(200);
}

const SCOPES = ["read", "write", "admin"];
const MESSAGE_LIMIT = 64 * 1024;

/** A pending request of public-cli for read and write; its user code as issued (ABCD-EFGH). */
async function pendingUserCode(): Promise<string> {
  const a = await server.flow.authorize({
    credentials: { clientId: "public-cli", method: "none" },
    scopes: ["read", "write"],
    resources: [],
    ipAddress: "127.0.0.1",
    userAgent: "fuzz",
  });
  return a.userCode;
}

/** RFC 8628 §6.1: the same code as a person might type it: any case, any separators, full-width. */
const typedAs = fc
  .tuple(
    fc.constantFrom("-", " ", "", "  ", "\t", "\u2010", "_", ".", "\u00a0", "/"),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([sep, lower, wide]) => {
    const shape = (code: string) => {
      let s = code.replace("-", sep);
      if (lower) s = s.toLowerCase();
      if (wide)
        s = [...s]
          .map((c) =>
            /[A-Za-z0-9]/.test(c) ? String.fromCodePoint((c.codePointAt(0) ?? 0) + 0xfee0) : c,
          )
          .join("");
      return s;
    };
    const label = `typed with ${JSON.stringify(sep)}${lower ? ", lower case" : ""}${wide ? ", full-width" : ""}`;
    return Object.assign(shape, { [fc.toStringMethod]: () => label });
  });

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Protobuf JSON refuses a lone surrogate (it has no UTF-8 form): InvalidArgument.
 * The binary encoders turn it into U+FFFD before it leaves the client.
 */
const jsonRefuses = (transport: string, values: readonly string[]) =>
  transport.includes("JSON") && values.some((v) => LONE_SURROGATE.test(v));

const utf8Length = (values: readonly string[]) =>
  values.reduce((n, s) => n + Buffer.byteLength(s, "utf8"), 0);

/**
 * Repeated fields: a few values, or thousands of short ones (up to about
 * twice the 64 KiB message limit: connect-node's HTTP/2 clients keep the
 * unsent part of a refused message in their session, and a few dozen MiB of
 * it makes the client itself refuse new streams; that is not under test).
 */
const repeated = (item: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.array(item, { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.oneof(fc.constantFrom(...SCOPES), anyString(12), hostileChar), {
        minLength: 500,
        maxLength: 12_000,
      }),
    },
  );

const serviceCredential = fc.oneof(
  { weight: 4, arbitrary: fc.constant(`Bearer ${SERVICE_TOKEN}`) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(undefined),
      fc.constant(`Bearer ${SERVICE_TOKEN}x`),
      fc.constant(`Basic ${SERVICE_TOKEN}`),
      fc.stringMatching(/^Bearer [\x21-\x7e]{0,80}$/),
    ),
  },
);

const NAMES = [
  "Connect JSON over HTTP/1.1",
  "Connect binary over HTTP/1.1",
  "Connect binary over h2c",
  "gRPC over h2c",
  "gRPC-Web over HTTP/1.1",
];

describe.each(NAMES)("DeviceAuthService over %s, hostile messages", (name) => {
  const client = () => createClient(DeviceAuthService, byName[name] as Transport);
  const run = runs(60);

  it("Authorize: succeeds only for a valid request, else a client error (RFC 8628 §3.1)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom("public-cli", "confidential-agent", "refresh-only", "inactive-cli", ""),
          fuzzString,
        ),
        fc.oneof(fc.constant(""), fuzzString),
        repeated(fc.oneof(fc.constantFrom(...SCOPES), fuzzString)),
        repeated(fc.oneof(fc.constant("https://mcp.example.com/"), fuzzString)),
        async (clientId, clientSecret, scopes, resources) => {
          const o = await outcome(
            client().authorize({ clientId, clientSecret, scopes, resources }),
          );
          const size = utf8Length([clientId, clientSecret, ...scopes, ...resources]);
          const invalid =
            clientId !== "public-cli" ||
            clientSecret !== "" ||
            scopes.some((s) => !SCOPES.includes(s)) ||
            resources.some((r) => /[\0-\x20\x7f#]|\s/.test(r));
          const inDoubt =
            size > MESSAGE_LIMIT / 2 ||
            jsonRefuses(name, [clientId, clientSecret, ...scopes, ...resources]) ||
            resources.some((r) => r !== "https://mcp.example.com/");
          if (invalid) expectClientError(o);
          else if (!o.ok && inDoubt) expectClientError(o);
          else {
            expect(o.ok ? "" : `${Code[o.error.code]}: ${o.error.rawMessage}`).toBe("");
            if (o.ok) expect(o.value.userCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
          }
          await expectHealthy();
        },
      ),
      run,
    );
  });

  it("PollToken: a random device code never yields a token (RFC 8628 §3.5)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constantFrom("public-cli", "confidential-agent", "refresh-only"), fuzzString),
        fc.oneof(fc.constant(""), fuzzString),
        deviceCodeShape,
        async (clientId, clientSecret, deviceCode) => {
          expectClientError(
            await outcome(client().pollToken({ clientId, clientSecret, deviceCode })),
          );
          await expectHealthy();
        },
      ),
      run,
    );
  });

  it("Approve: records a decision only for a live code, a valid subject and a known decision", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          typedAs.map((f) => ({ real: true as const, shape: f })),
          userCodeShape.map((s) => ({ real: false as const, shape: () => s })),
        ),
        fc.oneof(fc.constant("alice"), fuzzString),
        fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(Decision.APPROVE, Decision.DENY) },
          { weight: 1, arbitrary: fc.constantFrom(Decision.UNSPECIFIED, 3, -1, 2 ** 31 - 1) },
          { weight: 1, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
        ),
        repeated(fc.oneof(fc.constantFrom("read", "write"), fuzzString)),
        serviceCredential,
        async (target, subject, decision, scopes, credential) => {
          const issued = await pendingUserCode();
          const userCode = target.shape(issued);
          const headers = credential === undefined ? undefined : { authorization: credential };
          const o = await outcome(
            client().approve({ userCode, subject, decision, scopes }, headers ? { headers } : {}),
          );
          if (credential !== `Bearer ${SERVICE_TOKEN}`)
            return expectClientError(o, [Code.Unauthenticated]);
          const subjectOk = subject !== "" && subject.length <= 256 && !/\p{Cc}/u.test(subject);
          const scopesOk =
            decision !== Decision.APPROVE || scopes.every((s) => s === "read" || s === "write");
          const known = decision === Decision.APPROVE || decision === Decision.DENY;
          const big = utf8Length([userCode, subject, ...scopes]) > MESSAGE_LIMIT / 2;
          if (!target.real || !subjectOk || !scopesOk) return expectClientError(o);
          // Unknown decision numbers: see the known bug below; either way no 5xx-like code.
          if (!known && !o.ok) return expectClientError(o);
          if (!o.ok && (big || jsonRefuses(name, [userCode, subject, ...scopes])))
            return expectClientError(o);
          expect(o.ok ? "" : `${Code[o.error.code]}: ${o.error.rawMessage}`).toBe("");
          if (o.ok) expect(o.value).toMatchObject({ clientId: "public-cli", decision });
          // At most one decision per request (FailedPrecondition + ALREADY_DECIDED after it).
          expectClientError(
            await outcome(
              client().approve(
                { userCode: issued, subject: "bob", decision: Decision.APPROVE },
                { headers: { authorization: `Bearer ${SERVICE_TOKEN}` } },
              ),
            ),
            [Code.FailedPrecondition],
          );
          await expectHealthy();
        },
      ),
      run,
    );
  });

  it("GetDeviceAuthorization: finds a live code in any shape, nothing else (RFC 8628 §6.1)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          typedAs.map((f) => ({ real: true as const, shape: f })),
          userCodeShape.map((s) => ({ real: false as const, shape: () => s })),
          fc
            .oneof(hostileString, anyString(200))
            .map((s) => ({ real: false as const, shape: () => s })),
        ),
        serviceCredential,
        async (target, credential) => {
          const issued = await pendingUserCode();
          const headers = credential === undefined ? undefined : { authorization: credential };
          const o = await outcome(
            client().getDeviceAuthorization(
              { userCode: target.shape(issued) },
              headers ? { headers } : {},
            ),
          );
          if (credential !== `Bearer ${SERVICE_TOKEN}`)
            return expectClientError(o, [Code.Unauthenticated]);
          if (!target.real) return expectClientError(o, [Code.NotFound, Code.InvalidArgument]);
          expect(o.ok ? "" : `${Code[o.error.code]}: ${o.error.rawMessage}`).toBe("");
          if (o.ok) expect(o.value.userCode).toBe(issued);
          await expectHealthy();
        },
      ),
      run,
    );
  });
});

/** Failures the properties found, kept as fixed examples. */
describe("regressions found by fuzzing the RPCs", () => {
  it.each(["Connect JSON over HTTP/1.1", "gRPC-Web over HTTP/1.1"])(
    "%s: a call after an oversized one gets its own answer, not ECONNRESET (src/server/unread-body.ts)",
    async (name) => {
      const client = createClient(
        DeviceAuthService,
        transports(server.issuer)[name as "gRPC-Web over HTTP/1.1"],
      );
      const scopes = Array.from({ length: 2000 }, () => "x".repeat(300)); // ~600 KB
      expectClientError(await outcome(client.authorize({ clientId: "public-cli", scopes })), [
        Code.ResourceExhausted,
      ]);
      expectClientError(await outcome(client.authorize({ clientId: "nobody" })), [
        Code.Unauthenticated,
      ]);
    },
  );

  // Regression: any decision but UNSPECIFIED and APPROVE was recorded as a denial, so an
  // unknown enum number (proto3 enums are open) irreversibly denied the request.
  it("Approve with an unknown decision number is InvalidArgument, not a denial", async () => {
    const client = createClient(
      DeviceAuthService,
      transports(server.issuer)["Connect JSON over HTTP/1.1"],
    );
    const userCode = await pendingUserCode();
    expectClientError(
      await outcome(
        client.approve(
          { userCode, subject: "alice", decision: 3 as Decision },
          { headers: { authorization: `Bearer ${SERVICE_TOKEN}` } },
        ),
      ),
      [Code.InvalidArgument],
    );
  });
});
