/**
 * The form fast path (src/http/form-fast-path.ts) against fastify: the same
 * raw HTTP/1.1 requests, sent to a server with the fast path and to one
 * without it, must get the same bytes back (status line, every header in
 * order but Date, the body) and leave the same access-log line. Random
 * values (device and user codes, tokens) are replaced by their shape before
 * comparing. fastify's handler channel shows which path answered: the fast
 * server's fastify never sees the requests it takes, and does see those it
 * must leave to fastify.
 */
import diagnostics from "node:diagnostics_channel";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEVICE_GRANT,
  logLines,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";
import { until } from "../support/until.js";

const FORM = "application/x-www-form-urlencoded";

let fast: TestServer;
let reference: TestServer;
/** Requests fastify's route handlers ran, by server port. */
const fastifyHandled = new Map<number, number>();
const onHandlerStart = (message: unknown) => {
  const raw = (message as { request: { raw: { socket: { localPort: number } } } }).request.raw;
  const port = raw.socket.localPort;
  fastifyHandled.set(port, (fastifyHandled.get(port) ?? 0) + 1);
};
const handlerChannel = diagnostics.channel("tracing:fastify.request.handler:start");

beforeAll(async () => {
  // A store that holds two pending requests, so a third is temporarily_unavailable.
  const options = { memoryMaxPending: 2, pollInterval: 1, pollJitterMs: 200 };
  fast = await startTestServer(options);
  reference = await startTestServer({ ...options, formFastPath: false });
  handlerChannel.subscribe(onHandlerStart);
});
afterAll(async () => {
  handlerChannel.unsubscribe(onHandlerStart);
  await Promise.all([fast?.close(), reference?.close()]);
});

/** Sends raw bytes on a fresh connection and reads until the server closes it. */
function exchange(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.write(request); // no FIN: the server closes after its answer (Connection: close)
  });
}

function post(
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = { "content-type": FORM },
): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const head = [`POST ${path} HTTP/1.1`, "Host: localhost", "Connection: close"];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  if (!("content-length" in headers)) head.push(`Content-Length: ${bytes.length}`);
  return Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), bytes]);
}

/** The response with Date dropped and random values replaced by their length. */
function normalised(response: string): string {
  return response
    .replace(/\r\ndate: [^\r]*/i, "")
    .replace(
      /"(device_code|user_code|verification_uri_complete|access_token|refresh_token)":"([^"]*)"/g,
      (_m, name: string, value: string) => `"${name}":"<${value.length}>"`,
    )
    .replace(/(content-length: )\d+/i, "$1<n>")
    .replace(/localhost:\d+/g, "localhost:<port>");
}

function bodyOf(response: string): Record<string, unknown> {
  return JSON.parse(response.slice(response.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
}

const accessLines = (server: TestServer) => logLines(server, "request");

/** The access-log line after the `seen`th, once written, without the fields that vary between runs. */
async function nextAccessLine(server: TestServer, seen: number): Promise<Record<string, unknown>> {
  await until(() => accessLines(server).length > seen);
  const { ms, time, pid, hostname, reqId, ...rest } = accessLines(server)[seen] ?? {};
  expect(typeof ms).toBe("number");
  expect(String(reqId)).toMatch(/^req-[0-9a-z]+$/);
  return rest;
}

/**
 * Sends one request (built from the values each server handed out before)
 * to both servers and expects the same answer and log line; returns both.
 */
async function both(
  build: (values: Record<string, string>) => Buffer,
  values: { fast: Record<string, string>; reference: Record<string, string> },
): Promise<{ fast: string; reference: string }> {
  const [seenA, seenB] = [accessLines(fast).length, accessLines(reference).length];
  const a = await exchange(fast.port, build(values.fast));
  const b = await exchange(reference.port, build(values.reference));
  expect(a).not.toBe("");
  expect(normalised(a)).toBe(normalised(b));
  expect(await nextAccessLine(fast, seenA)).toEqual(await nextAccessLine(reference, seenB));
  return { fast: a, reference: b };
}

const none = { fast: {}, reference: {} };
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`;

describe("the form fast path answers as fastify does, byte for byte", () => {
  const values = { fast: {} as Record<string, string>, reference: {} as Record<string, string> };

  it("the device authorization (RFC 8628 §3.2), then a poll's every answer (RFC 8628 §3.5)", async () => {
    const before = fastifyHandled.get(fast.port) ?? 0;
    const authorized = await both(
      () => post("/oauth/device/authorize", "client_id=public-cli&scope=read"),
      none,
    );
    expect(authorized.fast).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    values.fast.code = String(bodyOf(authorized.fast).device_code);
    values.reference.code = String(bodyOf(authorized.reference).device_code);
    values.fast.user = String(bodyOf(authorized.fast).user_code);
    values.reference.user = String(bodyOf(authorized.reference).user_code);
    const poll = (v: Record<string, string>) =>
      post("/oauth/token", `grant_type=${DEVICE_GRANT}&client_id=public-cli&device_code=${v.code}`);

    const pending = await both(poll, values);
    expect(bodyOf(pending.fast).error).toBe("authorization_pending");
    const tooFast = await both(poll, values);
    expect(bodyOf(tooFast.fast).error).toBe("slow_down");

    for (const s of [fast, reference]) {
      const user = s === fast ? values.fast.user : values.reference.user;
      await s.flow.decide({ userCode: String(user), subject: "alice", approve: true });
    }
    await new Promise((r) => setTimeout(r, 1300)); // past the slowed interval's pacing
    const issued = await both(poll, values);
    expect(issued.fast).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(bodyOf(issued.fast)).toMatchObject({ token_type: "Bearer", scope: "read" });
    values.fast.refresh = String(bodyOf(issued.fast).refresh_token);
    values.reference.refresh = String(bodyOf(issued.reference).refresh_token);
    const reused = await both(poll, values);
    expect(bodyOf(reused.fast).error).toBe("invalid_grant");

    // The refresh grant takes the same path (RFC 6749 §6).
    const refreshed = await both(
      (v) =>
        post(
          "/oauth/token",
          `grant_type=refresh_token&client_id=public-cli&refresh_token=${encodeURIComponent(v.refresh ?? "")}`,
        ),
      values,
    );
    expect(refreshed.fast).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // None of these reached fastify's handlers on the fast server.
    expect(fastifyHandled.get(fast.port) ?? 0).toBe(before);
    expect(fastifyHandled.get(reference.port) ?? 0).toBeGreaterThan(0);
  });

  it("refusals: the one error translation, with its headers (RFC 6749 §5.2)", async () => {
    const before = fastifyHandled.get(fast.port) ?? 0;
    const cases: Array<[Buffer, number, string]> = [
      [post("/oauth/token", "client_id=public-cli"), 400, "invalid_request"],
      [
        post("/oauth/token", "grant_type=password&client_id=public-cli"),
        400,
        "unsupported_grant_type",
      ],
      [
        post("/oauth/token", `grant_type=${DEVICE_GRANT}&client_id=public-cli&device_code=nope`),
        400,
        "invalid_grant",
      ],
      [
        post("/oauth/token", `grant_type=${DEVICE_GRANT}&client_id=nobody&device_code=x`),
        401,
        "invalid_client",
      ],
      [
        post("/oauth/device/authorize", "client_id=public-cli&client_id=other"),
        400,
        "invalid_request",
      ],
      [post("/oauth/device/authorize", "client_id=public-cli%zz"), 400, "invalid_request"],
      [post("/oauth/device/authorize", Buffer.from([0x63, 0x3d, 0xc3])), 400, "invalid_request"],
      [post("/oauth/device/authorize", "scope=read"), 400, "invalid_request"],
      [post("/oauth/device/authorize", "client_id=public-cli&scope=root"), 400, "invalid_scope"],
      // A wrong Basic secret: 401 with the challenge (RFC 6749 §5.2).
      [
        post("/oauth/device/authorize", "scope=read", {
          "content-type": FORM,
          authorization: basic("confidential-agent", "wrong"),
        }),
        401,
        "invalid_client",
      ],
      [
        post(
          "/oauth/device/authorize",
          `client_secret=${encodeURIComponent(CONFIDENTIAL_SECRET)}`,
          {
            "content-type": FORM,
            authorization: basic("confidential-agent", CONFIDENTIAL_SECRET),
          },
        ),
        400,
        "invalid_request",
      ],
    ];
    for (const [request, status, error] of cases) {
      const r = await both(() => request, none);
      expect(`${r.fast.slice(9, 12)} ${bodyOf(r.fast).error}`).toBe(`${status} ${error}`);
    }
    expect(fastifyHandled.get(fast.port) ?? 0).toBe(before);
  });

  it("a full store: 503 temporarily_unavailable with Retry-After, and the warning logged", async () => {
    // Two pending requests fit (one is taken above and consumed; fill the rest).
    let r = await both(() => post("/oauth/device/authorize", "client_id=public-cli"), none);
    for (let i = 0; i < 3 && r.fast.startsWith("HTTP/1.1 200"); i++) {
      r = await both(() => post("/oauth/device/authorize", "client_id=public-cli"), none);
    }
    expect(r.fast).toMatch(/^HTTP\/1\.1 503 /);
    expect(r.fast).toMatch(/\r\nretry-after: 5\r\n/i);
    expect(bodyOf(r.fast).error).toBe("temporarily_unavailable");
    const warnings = (t: TestServer) => t.logs().split("state store unavailable").length - 1;
    await until(() => warnings(fast) > 0);
    expect(warnings(fast)).toBe(warnings(reference));
  });

  it("what it does not take, fastify answers: a charset, a query, chunked, an empty or oversized body", async () => {
    const before = fastifyHandled.get(fast.port) ?? 0;
    const chunked = Buffer.from(
      "POST /oauth/device/authorize HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" +
        `Content-Type: ${FORM}\r\nTransfer-Encoding: chunked\r\n\r\n14\r\nclient_id=public-cli\r\n0\r\n\r\n`,
    );
    const requests = [
      post("/oauth/device/authorize", "client_id=public-cli", {
        "content-type": `${FORM}; charset=utf-8`,
      }),
      post("/oauth/token?client_secret=x", "client_id=public-cli"),
      post("/oauth/token", ""),
      post("/oauth/token", `client_id=${"a".repeat(20_000)}`),
      post("/oauth/token", "client_id=public-cli", { "content-type": "application/json" }),
    ];
    for (const request of requests) {
      await both(() => request, none);
    }
    // The chunked request consumes a pending slot on each server alike; answered by fastify too.
    await both(() => chunked, none);
    expect((fastifyHandled.get(fast.port) ?? 0) - before).toBeGreaterThanOrEqual(2);
  });
});
