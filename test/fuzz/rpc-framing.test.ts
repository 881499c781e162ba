/**
 * Garbage on the RPC paths, below any client library: Connect unary
 * with wrong content types, broken JSON and protobuf cut short, over HTTP/1.1
 * and h2c; gRPC-Web over HTTP/1.1 and gRPC over h2c with random framing. A
 * client reading the answer must see a client-error code (never Internal or
 * Unknown), or a protocol refusal (415, 405); the server stays up.
 */
import http2 from "node:http2";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { runs } from "./support/fuzz-runs.js";
import { anyString, wrongContentType } from "./support/hostile-values.js";
import { answered } from "./support/oauth-answer.js";
import { send } from "./support/raw-http.js";
import { CLIENT_ERROR_CONNECT_NAMES, CLIENT_ERROR_GRPC_STATUSES } from "./support/rpc-outcome.js";
import {
  brokenProtobuf,
  envelope,
  grpcBody,
  grpcStatus,
  h2Call,
  jsonMessage,
  METHODS,
  SERVICE,
} from "./support/rpc-wire.js";

let server: TestServer;
let session: http2.ClientHttp2Session | undefined;
beforeAll(async () => {
  server = await startTestServer();
});

/**
 * The h2c session, reconnected when Node's flood protection ended it: the
 * server closes a session after 1 000 invalid frames, and each call this test
 * cancels while it is still sending (refused for size) may leave a few DATA
 * frames in flight. Node's client also keeps the unsent bytes of such calls in
 * its session memory (10 MiB by default, then it refuses streams with
 * ENHANCE_YOUR_CALM), hence the larger allowance. Long runs (FUZZ_SCALE) reach both.
 */
function live(): http2.ClientHttp2Session {
  if (session === undefined || session.closed || session.destroyed) {
    session = http2.connect(server.issuer, { maxSessionMemory: 1000 });
    session.on("error", () => {});
  }
  return session;
}
afterAll(async () => {
  session?.close();
  expect(server.logs()).not.toMatch(/"level":50/);
  await server.close();
});

async function expectHealthy(): Promise<void> {
  expect((await fetch(`${server.issuer}/healthz`)).status).toBe(200);
}

/** Refusals the Connect and gRPC protocols make before any message: no error body. */
const PROTOCOL_REFUSALS = [405, 415];

/**
 * What a Connect client reads from a unary answer (connectrpc.com/docs/protocol):
 * the JSON error's `code`, or the refusal status.
 */
function expectConnectClientError(status: number, contentType: string | undefined, body: Buffer) {
  const context = `${status} ${contentType} ${body.toString("utf8").slice(0, 200)}`;
  expect(status, context).not.toBe(200);
  if (body.length === 0) {
    expect(PROTOCOL_REFUSALS, context).toContain(status);
    return;
  }
  expect(contentType, context).toMatch(/^application\/json/);
  const { code } = JSON.parse(body.toString("utf8")) as { code?: string };
  expect(CLIENT_ERROR_CONNECT_NAMES, context).toContain(code);
}

/** What a gRPC or gRPC-Web client reads: the grpc-status, or the refusal status. */
function expectGrpcClientError(
  httpStatus: number,
  headers: Record<string, string | string[] | undefined>,
  trailers: Record<string, string | string[] | undefined>,
  body: Buffer,
) {
  const { status, message } = grpcStatus(headers, trailers, body);
  const context = `HTTP ${httpStatus}, grpc-status ${status} ${message}`;
  if (httpStatus !== 200) {
    expect(PROTOCOL_REFUSALS, context).toContain(httpStatus);
    return;
  }
  expect(CLIENT_ERROR_GRPC_STATUSES, context).toContain(status);
}

const connectContentType = fc.oneof(
  fc.constantFrom(
    "application/proto",
    "application/json",
    "application/json; charset=utf-8",
    "Application/Proto",
    "application/connect+proto",
    "application/connect+json",
  ),
  wrongContentType,
);

/** Bodies for a Connect unary call: broken protobuf, broken or ill-typed JSON, deep nesting. */
const connectBody = fc.oneof(
  brokenProtobuf,
  jsonMessage,
  anyString(200).map((s) => Buffer.from(s, "utf8")),
  fc
    .constantFrom(
      "{",
      "{nope",
      '{"clientId": 5}',
      '{"scopes": "read"}',
      '{"decision": "DECISION_MAYBE"}',
      '{"decision": 1e400}',
      '{"clientId": "\\ud800"}',
      '{"clientId": null, "clientId": "x"}',
      "[]",
      "null",
      '"x"',
      "\ufeff{}",
      `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
      `{"a":${'{"a":'.repeat(50_000)}1${"}".repeat(50_001)}`,
    )
    .map((s) => Buffer.from(s, "utf8")),
);

const connectHeaders = fc.record(
  {
    "connect-protocol-version": fc.constantFrom("1", "2", ""),
    "content-encoding": fc.constantFrom("gzip", "br", "identity", "zstd", "x"),
    "connect-timeout-ms": fc.oneof(
      fc.constantFrom("0", "1", "-1", "x", "99999999999"),
      fc.nat().map(String),
    ),
  },
  { requiredKeys: [] },
);

describe("Connect unary garbage over HTTP/1.1", () => {
  it("answers a Connect client error or a refusal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        connectContentType,
        connectHeaders,
        connectBody,
        async (method, contentType, extra, body) => {
          const r = answered(
            await send(server.port, {
              method: "POST",
              path: `${SERVICE}/${method}`,
              headers: [["Content-Type", contentType], ...Object.entries(extra)],
              body,
            }),
          );
          // A gRPC content type (the wrong list has some) reaches the gRPC handler, which serves HTTP/1.1 too.
          if (r.headers.get("content-type")?.startsWith("application/grpc")) {
            expectGrpcClientError(r.status, Object.fromEntries(r.headers), {}, r.body);
          } else expectConnectClientError(r.status, r.headers.get("content-type"), r.body);
          await expectHealthy();
        },
      ),
      runs(200),
    );
  });
});

describe("Connect unary garbage over h2c", () => {
  it("answers a Connect client error or a refusal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        connectContentType,
        connectHeaders,
        connectBody,
        async (method, contentType, extra, body) => {
          const r = await h2Call(
            live(),
            {
              ":method": "POST",
              ":path": `${SERVICE}/${method}`,
              "content-type": contentType,
              ...extra,
            },
            body,
          );
          expect(r.stalled, "the server neither answered nor reset the stream").toBe(false);
          expect(r.rstCode, "the server reset the stream").toBeUndefined();
          if (r.headers["content-type"]?.startsWith("application/grpc")) {
            expectGrpcClientError(Number(r.headers[":status"]), r.headers, r.trailers, r.body);
          } else {
            expectConnectClientError(
              Number(r.headers[":status"]),
              r.headers["content-type"],
              r.body,
            );
          }
          await expectHealthy();
        },
      ),
      runs(150),
    );
  });
});

describe("gRPC-Web garbage over HTTP/1.1", () => {
  it("answers a client-error grpc-status or a refusal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        fc.constantFrom(
          "application/grpc-web",
          "application/grpc-web+proto",
          "application/grpc-web+json",
          "application/grpc-web-text",
        ),
        fc.option(fc.constantFrom("gzip", "x", "identity"), { nil: undefined }),
        grpcBody,
        async (method, contentType, encoding, body) => {
          const text = contentType.endsWith("-text");
          const r = answered(
            await send(server.port, {
              method: "POST",
              path: `${SERVICE}/${method}`,
              headers: [
                ["Content-Type", contentType],
                ["X-Grpc-Web", "1"],
                ...(encoding === undefined
                  ? []
                  : [["Grpc-Encoding", encoding] as [string, string]]),
              ],
              body: text ? Buffer.from(Buffer.from(body).toString("base64")) : body,
            }),
          );
          expectGrpcClientError(r.status, Object.fromEntries(r.headers), {}, r.body);
          await expectHealthy();
        },
      ),
      runs(150),
    );
  });
});

describe("gRPC garbage over h2c", () => {
  it("answers a client-error grpc-status or a refusal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...METHODS),
        fc.constantFrom("application/grpc", "application/grpc+proto", "application/grpc+json"),
        fc.option(fc.constantFrom("gzip", "x", "identity", "deflate"), { nil: undefined }),
        fc.option(fc.constantFrom("1n", "5S", "99999999H", "x", "-1m", "100000000S"), {
          nil: undefined,
        }),
        grpcBody,
        async (method, contentType, encoding, timeout, body) => {
          const r = await h2Call(
            live(),
            {
              ":method": "POST",
              ":path": `${SERVICE}/${method}`,
              "content-type": contentType,
              te: "trailers",
              ...(encoding === undefined ? {} : { "grpc-encoding": encoding }),
              ...(timeout === undefined ? {} : { "grpc-timeout": timeout }),
            },
            body,
          );
          expect(r.stalled, "the server neither answered nor reset the stream").toBe(false);
          expect(r.rstCode, "the server reset the stream").toBeUndefined();
          expectGrpcClientError(Number(r.headers[":status"]), r.headers, r.trailers, r.body);
          await expectHealthy();
        },
      ),
      runs(150),
    );
  });
});

/** Failures the properties found, kept as fixed examples. */
describe("regressions found by fuzzing the RPC framing", () => {
  it("protobuf cut short is InvalidArgument in every protocol, not Internal (src/server/rpc-request-faults.ts)", async () => {
    const cut = Uint8Array.from([0x0a]); // field 1, length-delimited, and nothing else
    const connect = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/Authorize`,
        headers: [["Content-Type", "application/proto"]],
        body: cut,
      }),
    );
    expect(connect.status).toBe(400);
    expect(JSON.parse(connect.body.toString("utf8"))).toMatchObject({ code: "invalid_argument" });
    const web = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/Authorize`,
        headers: [["Content-Type", "application/grpc-web+proto"]],
        body: envelope(0, cut),
      }),
    );
    expect(grpcStatus(Object.fromEntries(web.headers), {}, web.body).status).toBe(3);
    const grpc = await h2Call(
      live(),
      {
        ":method": "POST",
        ":path": `${SERVICE}/Authorize`,
        "content-type": "application/grpc",
        te: "trailers",
      },
      envelope(0, cut),
    );
    expect(grpcStatus(grpc.headers, grpc.trailers).status).toBe(3);
  });

  it("a gzip body that is not gzip, and a compressed frame without an encoding, are InvalidArgument", async () => {
    const gzip = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/Authorize`,
        headers: [
          ["Content-Type", "application/json"],
          ["Content-Encoding", "gzip"],
        ],
        body: Uint8Array.from([0]),
      }),
    );
    expect(JSON.parse(gzip.body.toString("utf8"))).toMatchObject({ code: "invalid_argument" });
    const flagged = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/Authorize`,
        headers: [["Content-Type", "application/grpc-web"]],
        body: envelope(0xff, new Uint8Array()),
      }),
    );
    expect(grpcStatus(Object.fromEntries(flagged.headers), {}, flagged.body).status).toBe(3);
  });

  it("gRPC-Web+JSON whose parse error quotes half an emoji is answered, not left hanging", async () => {
    // V8's JSON.parse message quotes the text around the error and may cut a surrogate pair.
    const json = Buffer.from(`${"\u{1d518}".repeat(20)}x`, "utf8");
    for (let skip = 0; skip < 8; skip++) {
      const r = answered(
        await send(server.port, {
          method: "POST",
          path: `${SERVICE}/Authorize`,
          headers: [["Content-Type", "application/grpc-web+json"]],
          body: envelope(0, Buffer.concat([Buffer.from("x".repeat(skip)), json])),
        }),
      );
      expect(CLIENT_ERROR_GRPC_STATUSES).toContain(
        grpcStatus(Object.fromEntries(r.headers), {}, r.body).status,
      );
    }
  });
});
