/**
 * Hostile input at the RFC endpoints (RFC 8628 §3.1, RFC 6749 §3.2 and §5.2, RFC 8414 §3):
 * fast-check drafts a valid request, mutates it (harmless changes that must
 * not alter the answer, breaking ones that must turn it into a named client
 * error) and sends the bytes over a bare socket to a real server. Every
 * answer is a well-formed 4xx JSON error with `no-store`, or the success the
 * request deserved; never a 5xx, and /healthz answers after each request.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import {
  DEVICE_GRANT,
  type Draft,
  draft,
  formMutations,
  type Mutation,
  toRequest,
  type Verdict,
  verdict,
} from "./support/form-draft.js";
import { runs } from "./support/fuzz-runs.js";
import { httpMethod, wrongContentType } from "./support/hostile-values.js";
import {
  answered,
  expectClientError,
  expectDeviceAuthorization,
  expectMetadata,
  expectTokenResponse,
} from "./support/oauth-answer.js";
import { type RawRequest, type RawResponse, send } from "./support/raw-http.js";

const AUTHORIZE = "/oauth/device/authorize";
const TOKEN = "/oauth/token";
const METADATA = "/.well-known/oauth-authorization-server";
const BODY_LIMIT = 4096;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ bodyLimit: BODY_LIMIT });
});
afterAll(async () => {
  // No request may have reached the catch-all "unhandled error" branch (level 50).
  expect(server.logs()).not.toMatch(/"level":50/);
  await server.close();
});

async function expectHealthy(): Promise<void> {
  const res = await fetch(`${server.issuer}/healthz`);
  expect(res.status).toBe(200);
}

/** Checks an answer against the verdict; `success` checks the base request's answer. */
function judge(r: RawResponse, d: Draft, v: Verdict, success: (r: RawResponse) => void): void {
  const head = d.method === "HEAD";
  if (v.broken.length === 0) {
    // RFC 8707 §2: an odd resource value is either an absolute URI or invalid_target.
    if (v.resourceInDoubt && r.status === 400) {
      const { error } = expectClientError(r, { noStore: true });
      if (error === "invalid_target") return;
    }
    success(r);
    return;
  }
  const { status, error } = expectClientError(r, { noStore: true, head });
  const [only] = v.broken;
  if (v.broken.length !== 1 || only === undefined || head) return;
  if (only.statuses.length > 0) expect(only.statuses, only.what).toContain(status);
  const errors = v.resourceInDoubt ? [...only.errors, "invalid_target"] : only.errors;
  if (only.errors.length > 0) expect(errors, only.what).toContain(error);
}

const run = runs(300);

describe("POST /oauth/device/authorize under hostile input (RFC 8628 §3.1, RFC 6749 §2.3.1)", () => {
  const base = () =>
    draft("POST", AUTHORIZE, [
      ["client_id", "public-cli"],
      ["scope", "read write"],
      ["resource", "https://mcp.example.com/"],
    ]);

  const property = (mutations: Mutation[]) => async () => {
    const d = base();
    for (const x of mutations) x.apply(d);
    const v = verdict(d, { endpoint: "authorize", bodyLimit: BODY_LIMIT });
    const r = answered(await send(server.port, toRequest(d)));
    judge(r, d, v, expectDeviceAuthorization);
    await expectHealthy();
  };

  it("answers every mutation of a valid request as it deserves", async () => {
    await fc.assert(
      fc.asyncProperty(formMutations("authorize"), (ms) => property(ms)()),
      run,
    );
  });
});

describe("POST /oauth/token under hostile input (RFC 6749 §3.2, §5.2)", () => {
  const base = (deviceCode: string) =>
    draft("POST", TOKEN, [
      ["grant_type", DEVICE_GRANT],
      ["device_code", deviceCode],
      ["client_id", "public-cli"],
    ]);

  /** A fresh pending (or approved) authorization per case: the first poll is never slow_down (RFC 8628 §3.5). */
  async function freshCode(approved: boolean): Promise<string> {
    const a = await server.flow.authorize({
      credentials: { clientId: "public-cli", method: "none" },
      resources: [],
      ipAddress: "127.0.0.1",
      userAgent: "fuzz",
    });
    if (approved)
      await server.flow.decide({ userCode: a.userCode, subject: "alice", approve: true });
    return a.deviceCode;
  }

  it("answers every mutation of a poll as it deserves: pending, or the token once approved", async () => {
    await fc.assert(
      fc.asyncProperty(formMutations("token"), fc.boolean(), async (ms, approved) => {
        const deviceCode = await freshCode(approved);
        const d = base(deviceCode);
        for (const x of ms) x.apply(d);
        const v = verdict(d, { endpoint: "token", deviceCode, bodyLimit: BODY_LIMIT });
        const r = answered(await send(server.port, toRequest(d)));
        judge(r, d, v, (ok) => {
          if (approved) return expectTokenResponse(ok);
          // Valid but not yet approved: RFC 8628 §3.5.
          expect(expectClientError(ok, { noStore: true })).toEqual({
            status: 400,
            error: "authorization_pending",
          });
        });
        await expectHealthy();
      }),
      run,
    );
  });
});

describe("GET /.well-known/oauth-authorization-server under hostile input (RFC 8414 §3)", () => {
  it("serves the metadata whatever the headers and query, and a JSON 4xx to other methods and paths", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constant("GET"),
          fc.constant("HEAD"),
          httpMethod.filter((x) => x !== "CONNECT"),
        ),
        fc.constantFrom(
          METADATA,
          `${METADATA}/`,
          METADATA.toUpperCase(),
          `${METADATA}x`,
          `${METADATA}/..`,
        ),
        fc.stringMatching(/^[A-Za-z0-9%&=._~-]{0,60}$/),
        fc.option(wrongContentType, { nil: undefined }),
        fc.uint8Array({ maxLength: 300 }),
        async (method, path, query, contentType, body) => {
          const headers: [string, string][] =
            contentType === undefined ? [] : [["Content-Type", contentType]];
          const r = answered(
            await send(server.port, {
              method,
              path: query === "" ? path : `${path}?${query}`,
              headers,
              body: method === "GET" || method === "HEAD" ? new Uint8Array() : body,
            }),
          );
          const head = method === "HEAD";
          if ((method === "GET" || head) && path === METADATA) {
            expectMetadata(r, server.issuer, head);
          } else {
            expectClientError(r, { noStore: false, head });
          }
          await expectHealthy();
        },
      ),
      run,
    );
  });
});

describe("random bytes to the RFC endpoints", () => {
  it("answers a JSON 4xx to any body under any content type, method and Authorization", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
        fc.constantFrom(AUTHORIZE, TOKEN),
        fc.option(fc.oneof(wrongContentType, fc.constant("application/x-www-form-urlencoded")), {
          nil: undefined,
        }),
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          fc.string({ unit: "binary", maxLength: 300 }).map((s) => Buffer.from(s, "utf8")),
          fc.integer({ min: 4097, max: 40_000 }).map((n) => Buffer.alloc(n, 0x61)),
        ),
        async (method, path, contentType, body) => {
          const headers: [string, string][] =
            contentType === undefined ? [] : [["Content-Type", contentType]];
          const r = answered(await send(server.port, { method, path, headers, body }));
          expectClientError(r, { noStore: true });
          await expectHealthy();
        },
      ),
      run,
    );
  });
});

/** Failures the properties found, kept as fixed examples (the fixes name them). */
describe("regressions found by fuzzing the RFC endpoints", () => {
  const form = (body: string | Buffer, headers: [string, string][] = []): RawRequest => ({
    method: "POST",
    path: AUTHORIZE,
    headers: [["Content-Type", "application/x-www-form-urlencoded"], ...headers],
    body: typeof body === "string" ? Buffer.from(body, "latin1") : body,
  });

  it("RFC 8628 §3.1: an empty parameter beside the same one with a value is omitted, not repeated", async () => {
    const r = answered(await send(server.port, form("client_id=public-cli&client_id=")));
    expectDeviceAuthorization(r);
  });

  it("raw bytes that are not UTF-8 are invalid_request, not an unknown client", async () => {
    const r = answered(await send(server.port, form("client_id=public-cli\xc3")));
    expect(expectClientError(r, { noStore: true })).toEqual({
      status: 400,
      error: "invalid_request",
    });
  });

  it("RFC 6749 §5.2: a request Node's parser refuses gets an RFC 6749 error with no-store", async () => {
    for (const bad of [
      form("client_id=public-cli", [["X-Odd", "a\x01b"]]),
      { ...form(""), method: "FOO!" },
    ]) {
      const r = answered(await send(server.port, bad));
      expect(expectClientError(r, { noStore: true })).toEqual({
        status: 400,
        error: "invalid_request",
      });
    }
    const huge = answered(
      await send(server.port, form("client_id=public-cli", [["X-Big", "a".repeat(20_000)]])),
    );
    expect(expectClientError(huge, { noStore: true })).toEqual({
      status: 431,
      error: "invalid_request",
    });
  });

  it("RFC 8628 §3.1: a method fastify does not route (PURGE, PROPFIND) is 405 at a POST endpoint", async () => {
    for (const method of ["PURGE", "PROPFIND", "TRACE"]) {
      const r = answered(await send(server.port, { ...form(""), method, path: TOKEN }));
      expect(expectClientError(r, { noStore: true })).toEqual({
        status: 405,
        error: "invalid_request",
      });
      expect(r.headers.get("allow")).toBe("POST");
    }
  });
});
