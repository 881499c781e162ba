/**
 * Hostile bytes on a bare TCP connection to the one port: random
 * first bytes, prefixes of the HTTP/2 preface, request heads that parsers
 * disagree on (smuggling shapes, upgrades, CONNECT), header sections past the
 * limits, random HTTP/2 frames. The server answers a 4xx or closes, never a
 * 5xx, never hangs, and /healthz answers after each connection.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { runs } from "./support/fuzz-runs.js";
import { anyString, headerValue } from "./support/hostile-values.js";
import { expectClientError, RFC6749_ERROR_CHARSET } from "./support/oauth-answer.js";
import { exchange, type RawOutcome } from "./support/raw-http.js";

const PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  expect(server.logs()).not.toMatch(/"level":50/);
  await server.close();
});

async function expectHealthy(): Promise<void> {
  expect((await fetch(`${server.issuer}/healthz`)).status).toBe(200);
}

const GOAWAY = 7;

/** The types of the HTTP/2 frames in what the server sent. */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) {
    types.push(bytes.readUInt8(at + 3));
  }
  return types;
}

/** Writes `bytes`, half-closes, and reads what comes back. */
const hostile = (bytes: Uint8Array, until?: (bytes: Buffer) => boolean) =>
  exchange(server.port, [bytes], { end: true, ...(until ? { until } : {}) });

/** Answered with no 5xx (a 4xx in the RFC error shape), or closed; never left hanging. */
function expectRefusedOrServed(o: RawOutcome): void {
  expect(o.stalled, "the server neither answered nor closed").toBe(false);
  const r = o.response;
  if (r === undefined) return; // closed, or not HTTP/1.x at all (HTTP/2 GOAWAY)
  expect(r.status, r.body.toString("latin1").slice(0, 200)).toBeLessThan(500);
  if (r.status >= 400 && r.body.length > 0) {
    const { error } = expectClientError(r, { noStore: true });
    expect(error).toMatch(RFC6749_ERROR_CHARSET);
  }
}

/** Request heads that HTTP parsers have disagreed on, or that switch protocols. */
const ODD_HEADS = [
  "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
  "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\nab",
  "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
  "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
  "GET /healthz HTTP/1.1\nHost: x\n\n",
  "GET /healthz\r\n\r\n",
  "GET /healthz HTTP/1.0\r\n\r\n",
  "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
  "GET http://evil.invalid/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /oauth/\0token HTTP/1.1\r\nHost: x\r\n\r\n",
  "GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
  "GET /healthz HTTP/1.1\r\n\r\n",
  "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n",
  "POST /handoff.v1.DeviceAuthService/Authorize HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc-web\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\0\0\0\0\x05\r\n",
  "PRI * HTTP/2.0\r\n\r\n",
  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
  "PRI * HTTP/1.1\r\n\r\n",
];

/** First bytes: random, a prefix of the preface and then random, an odd head and then random. */
const firstBytes = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc
    .tuple(fc.integer({ min: 1, max: PREFACE.length }), fc.uint8Array({ maxLength: 200 }))
    .map(([n, rest]) => Buffer.concat([Buffer.from(PREFACE.slice(0, n), "latin1"), rest])),
  fc
    .tuple(
      fc.constantFrom(...ODD_HEADS),
      fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined }),
    )
    .map(([head, rest]) => Buffer.concat([Buffer.from(head, "latin1"), rest ?? new Uint8Array()])),
  fc
    .tuple(fc.constantFrom("GET", "POST", "HEAD", "DELETE", "BREW"), anyString(300))
    .map(([m, s]) => Buffer.from(`${m} /${s} HTTP/1.1\r\nHost: x\r\n\r\n`, "utf8")),
);

describe("the one port under random bytes", () => {
  it("answers a 4xx or closes, never a 5xx, never hangs", async () => {
    await fc.assert(
      fc.asyncProperty(firstBytes, async (bytes) => {
        if (Buffer.from(bytes).subarray(0, PREFACE.length).equals(Buffer.from(PREFACE, "latin1"))) {
          // HTTP/2: Node ignores the client's FIN while a frame is incomplete or after
          // its GOAWAY; the 60 s idle timeout ends such sessions (checked by hand: it is
          // too slow for CI). Here: no crash, and the port still serves.
          await exchange(server.port, [bytes], { end: true, guardMs: 200 });
        } else {
          expectRefusedOrServed(await hostile(bytes));
        }
        await expectHealthy();
      }),
      runs(300),
    );
  });

  it("refuses header sections past Node's limits with 431 (or 400), or closes", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          // One line longer than the 16 KiB header limit.
          fc.integer({ min: 17_000, max: 200_000 }).map((n) => [["X-Long", "a".repeat(n)]]),
          // Thousands of headers adding up past it.
          fc
            .tuple(fc.integer({ min: 2_500, max: 8_000 }), headerValue(8))
            .map(([n, v]) => Array.from({ length: n }, (_, i) => [`X-H${i}`, v])),
          // A request target past it.
          fc.integer({ min: 17_000, max: 60_000 }).map((n) => [["X-Path", "/".repeat(n)]]),
        ),
        fc.constantFrom("/oauth/token", "/healthz", "/handoff.v1.DeviceAuthService/Authorize"),
        async (headers, path) => {
          const [[name, value] = ["", ""]] = headers;
          const target = name === "X-Path" ? path + value : path;
          const lines = name === "X-Path" ? [] : headers.map(([n, v]) => `${n}: ${v}`);
          const head = [`POST ${target} HTTP/1.1`, "Host: x", ...lines, "", ""].join("\r\n");
          const o = await hostile(Buffer.from(head, "latin1"));
          expect(o.stalled, "the server neither answered nor closed").toBe(false);
          if (o.response) {
            expect([400, 431]).toContain(o.response.status);
            expectClientError(o.response, { noStore: true });
          }
          await expectHealthy();
        },
      ),
      runs(40),
    );
  });

  it("survives random HTTP/2 frames after the preface", async () => {
    const frame = fc
      .tuple(
        fc.integer({ min: 0, max: 0x3fff }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 255 }),
        fc.oneof(fc.constantFrom(0, 1, 3, 2 ** 31 - 1), fc.nat()),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([declared, type, flags, stream, payload]) => {
        const head = Buffer.alloc(9);
        head.writeUIntBE(Math.min(declared, payload.length + 16), 0, 3);
        head.writeUInt8(type, 3);
        head.writeUInt8(flags, 4);
        head.writeUInt32BE(stream >>> 0, 5);
        return Buffer.concat([head, payload]);
      });
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { maxLength: 8 }), async (frames) => {
        const o = await hostile(Buffer.concat([Buffer.from(PREFACE, "latin1"), ...frames]), (b) =>
          frameTypes(b).includes(GOAWAY),
        );
        // Node may keep a session it sent GOAWAY on open even after the client's FIN;
        // the idle timeout ends it (src/server/handoff-server.ts). The GOAWAY is the refusal.
        const refused = o.closedByServer || frameTypes(o.bytes).includes(GOAWAY);
        expect(refused, "the server neither closed nor sent GOAWAY").toBe(true);
        await expectHealthy();
      }),
      runs(200),
    );
  });
});

/** Failures the properties found, kept as fixed examples. */
describe("regressions found by fuzzing raw connections", () => {
  it("an HTTP/2 session Node sent GOAWAY on, or that idles, ends at the idle timeout", async () => {
    const s = await startTestServer({ http2IdleTimeoutMs: 300 });
    try {
      const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
      const dataOnStream0 = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0]);
      const [goaway, idle] = await Promise.all([
        exchange(s.port, [Buffer.from(PREFACE, "latin1"), settings, dataOnStream0], { end: true }),
        exchange(s.port, [Buffer.from(PREFACE, "latin1")]),
      ]);
      // Before the fix a no-op 'timeout' listener kept both open for good (the guard is 5 s).
      expect(frameTypes(goaway.bytes)).toContain(GOAWAY);
      expect(goaway.closedByServer).toBe(true);
      expect(idle.closedByServer).toBe(true);
    } finally {
      await s.close();
    }
  });
});
