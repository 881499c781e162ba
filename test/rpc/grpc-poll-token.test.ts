/**
 * The gRPC PollToken fast path (src/rpc/grpc-poll-token.ts) against
 * connect-es: the same raw HTTP/2 requests, sent to a server with the fast
 * path and to one without it, must get the same answer (`:status` and every
 * header in order but date, each DATA chunk, the trailers, and a reset's
 * code) and leave the same access-log line. Random values (tokens) are
 * replaced by their shape, and a token's seconds left rounded to ten,
 * before comparing. The fast path's diagnostics
 * channel shows which path answered: the plain case is answered by the fast
 * path, a body it will not take by connect-es's own handler behind it, and
 * what its headers rule out never reaches it. An answer without a message
 * is the one allowed difference: Trailers-Only on the fast path
 * (`trailersOnlyAsFast`).
 */
import diagnostics from "node:diagnostics_channel";
import http2 from "node:http2";
import zlib from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeviceAuthService,
  OAuthErrorSchema,
  PollTokenRequestSchema,
  PollTokenResponseSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { POLL_TOKEN_PATH } from "../../src/rpc/grpc-poll-token.js";
import {
  authorizeDevice,
  logLines,
  sleep,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { CONFIDENTIAL_SECRET } from "../support/test-clients.js";
import { until } from "../support/until.js";

interface Pair {
  readonly fast: TestServer;
  readonly reference: TestServer;
}
let main: Pair;
/** Codes that expire in 2 s (expired_token). */
let short: Pair;

/** Which path answered the streams the fast path took, by server port. */
const answered = new Map<number, { fast: number; connect: number }>();
const onAnswered = (message: unknown) => {
  const { by, port } = message as { by: "fast" | "connect"; port: number };
  const counts = answered.get(port) ?? { fast: 0, connect: 0 };
  counts[by]++;
  answered.set(port, counts);
};
const channel = diagnostics.channel("handoff:grpc-poll-token");
const counts = (s: TestServer) => ({ ...(answered.get(s.port) ?? { fast: 0, connect: 0 }) });

async function pair(options: Parameters<typeof startTestServer>[0]): Promise<Pair> {
  const [fast, reference] = await Promise.all([
    startTestServer(options),
    startTestServer({ ...options, grpcPollFastPath: false }),
  ]);
  return { fast, reference };
}

beforeAll(async () => {
  channel.subscribe(onAnswered);
  main = await pair({ pollInterval: 1, pollJitterMs: 200 });
  short = await pair({ pollInterval: 1, pollJitterMs: 0, deviceCodeTtl: 2 });
});
afterAll(async () => {
  channel.unsubscribe(onAnswered);
  await Promise.all(
    [main?.fast, main?.reference, short?.fast, short?.reference].map((s) => s?.close()),
  );
});

type Header = [string, string];
interface Exchange {
  readonly headers: Header[];
  /** The response HEADERS frame ended the stream (trailers-only). */
  readonly endStream: boolean;
  readonly data: Buffer[];
  readonly trailers: Header[] | undefined;
  readonly rstCode: number;
  readonly error: string | undefined;
}

const GRPC_HEADERS = {
  ":method": "POST",
  ":path": POLL_TOKEN_PATH,
  "content-type": "application/grpc",
  te: "trailers",
};

/** One request on a fresh session; the answer as it arrived. */
function exchange(
  port: number,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer | Buffer[],
): Promise<Exchange> {
  return new Promise((resolveOnce) => {
    let settled = false;
    const resolve = (x: Exchange) => {
      if (!settled) resolveOnce(x);
      settled = true;
    };
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const req = session.request(headers);
    let head: Header[] = [];
    let endStream = false;
    let trailers: Header[] | undefined;
    let error: string | undefined;
    const data: Buffer[] = [];
    const entries = (h: http2.IncomingHttpHeaders): Header[] =>
      Object.entries(h)
        .filter(([k]) => k !== "date")
        .map(([k, v]) => [k, String(v)]);
    req.on("response", (h, flags) => {
      head = entries(h);
      endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    req.on("trailers", (h) => {
      trailers = entries(h);
    });
    req.on("data", (c: Buffer) => data.push(c));
    req.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code;
    });
    const done = () => {
      const rstCode = req.rstCode ?? 0;
      session.close();
      resolve({ headers: head, endStream, data, trailers, rstCode, error });
    };
    // The server's answer is complete at its END_STREAM: a server that answered
    // before reading the whole body leaves the client's write blocked on flow
    // control, so the client resets its side then instead of waiting for 'close'.
    req.on("end", () => {
      done();
      req.close(http2.constants.NGHTTP2_CANCEL);
    });
    req.on("close", done);
    const parts = Array.isArray(body) ? body : [body];
    for (const p of parts) req.write(p);
    req.end();
  });
}

function frame(message: Uint8Array, flag = 0): Buffer {
  const f = Buffer.alloc(5 + message.byteLength);
  f[0] = flag;
  f.writeUInt32BE(message.byteLength, 1);
  f.set(message, 5);
  return f;
}

const pollMessage = (fields: { clientId?: string; deviceCode?: string; clientSecret?: string }) =>
  toBinary(PollTokenRequestSchema, create(PollTokenRequestSchema, fields));

/** The answer with random values by shape: token fields by length, the frame prefix checked. */
function normalised(x: Exchange): unknown {
  const bytes = Buffer.concat(x.data);
  const frames: unknown[] = [];
  for (let at = 0; at < bytes.length; ) {
    const flag = bytes[at] as number;
    const length = bytes.readUInt32BE(at + 1);
    let message = bytes.subarray(at + 5, at + 5 + length);
    at += 5 + length;
    if (flag === 1) message = zlib.gunzipSync(message);
    try {
      const m = fromBinary(PollTokenResponseSchema, message);
      frames.push({
        flag,
        accessToken: `<${m.accessToken.length}>`,
        refreshToken: `<${m.refreshToken.length}>`,
        tokenType: m.tokenType,
        // Seconds left, rounded up from when each server answered
        // (src/tokens/token-lifecycle.ts): the two may be a second apart.
        expiresIn: Math.round(m.expiresIn / 10) * 10,
        scope: m.scope,
      });
    } catch {
      frames.push({ flag, raw: message.toString("hex") });
    }
  }
  return {
    ...x,
    data: { chunks: x.data.length, frames },
    headers: x.headers,
  };
}

const rpcLines = (server: TestServer) => logLines(server, "rpc");

function withoutVarying(line: Record<string, unknown> | undefined) {
  const { ms, time, pid, hostname, ...rest } = line ?? {};
  expect(typeof ms).toBe("number");
  return rest;
}

/**
 * The one difference allowed: an answer without a message that the fast
 * path sent Trailers-Only (one HEADERS frame ending the stream) and
 * connect-es as headers, then trailers. The reference is compared as the
 * Trailers-Only answer it stands for: its headers, then its trailers, in
 * one block; everything else must be equal as sent.
 */
function trailersOnlyAsFast(fast: Exchange, reference: Exchange): Exchange {
  const standsFor =
    fast.endStream &&
    fast.trailers === undefined &&
    !reference.endStream &&
    reference.data.length === 0 &&
    reference.trailers !== undefined;
  if (!standsFor) return reference;
  return {
    ...reference,
    headers: [...reference.headers, ...(reference.trailers ?? [])],
    endStream: true,
    trailers: undefined,
  };
}

/** A status field of an answer (trailers, or the headers of a trailers-only answer). */
function fieldOf(x: Exchange, name: string): string | undefined {
  return new Map([...(x.trailers ?? []), ...x.headers]).get(name);
}
const statusOf = (x: Exchange) => fieldOf(x, "grpc-status");

/**
 * Sends one request (built from the values each server handed out) to both
 * servers of `p`; expects the same answer and the same access-log lines.
 */
async function both(
  p: Pair,
  build: (v: Record<string, string>) => {
    headers?: http2.OutgoingHttpHeaders;
    body: Buffer | Buffer[];
  },
  values: { fast: Record<string, string>; reference: Record<string, string> } = none,
): Promise<{ fast: Exchange; reference: Exchange }> {
  const [seenA, seenB] = [rpcLines(p.fast).length, rpcLines(p.reference).length];
  const a = build(values.fast);
  const b = build(values.reference);
  const fast = await exchange(p.fast.port, a.headers ?? GRPC_HEADERS, a.body);
  const reference = await exchange(p.reference.port, b.headers ?? GRPC_HEADERS, b.body);
  expect(fast.headers.length).toBeGreaterThan(0);
  expect(normalised(fast)).toEqual(normalised(trailersOnlyAsFast(fast, reference)));
  // The access log: the same lines (none for a request connect-es refuses unread).
  await sleep(20);
  const linesA = rpcLines(p.fast).slice(seenA).map(withoutVarying);
  const linesB = rpcLines(p.reference).slice(seenB).map(withoutVarying);
  expect(linesA).toEqual(linesB);
  return { fast, reference };
}
const none = { fast: {}, reference: {} };

async function authorizeOnBoth(p: Pair, form?: Record<string, string>) {
  const [a, b] = await Promise.all([
    authorizeDevice(p.fast, form),
    authorizeDevice(p.reference, form),
  ]);
  return {
    fast: { code: a.device_code, user: a.user_code },
    reference: { code: b.device_code, user: b.user_code },
  };
}

const poll = (v: Record<string, string>, clientId = "public-cli") => ({
  body: frame(pollMessage({ clientId, deviceCode: v.code ?? "" })),
});

describe("gRPC PollToken: the fast path answers as connect-es does, byte for byte", () => {
  it("pending, slow_down, issued tokens, a reused code (RFC 8628 §3.5): answered by the fast path", async () => {
    const before = counts(main.fast);
    const values = await authorizeOnBoth(main);
    const pending = await both(main, poll, values);
    expect(statusOf(pending.fast)).toBe(String(Code.FailedPrecondition));
    // A refusal is one HEADERS frame (Trailers-Only); connect-es sends two.
    expect([pending.fast.endStream, pending.fast.trailers]).toEqual([true, undefined]);
    expect(pending.reference.endStream).toBe(false);
    const slow = await both(main, poll, values);
    expect(statusOf(slow.fast)).toBe(String(Code.ResourceExhausted));
    // The detail carries the OAuth error and the new interval (connect-error.ts).
    const details = fieldOf(slow.fast, "grpc-status-details-bin");
    expect(details).toBeDefined();
    for (const s of [main.fast, main.reference]) {
      const user = s === main.fast ? values.fast.user : values.reference.user;
      await s.flow.decide({ userCode: String(user), subject: "alice", approve: true });
    }
    await sleep(1300); // past the slowed interval's pacing
    const issued = await both(main, poll, values);
    expect(statusOf(issued.fast)).toBe("0");
    expect(issued.fast.data.length).toBe(1);
    const reused = await both(main, poll, values);
    expect(statusOf(reused.fast)).toBe(String(Code.InvalidArgument));
    expect(counts(main.fast).fast - before.fast).toBe(4);
    expect(counts(main.fast).connect).toBe(before.connect);
    expect(counts(main.reference)).toEqual({ fast: 0, connect: 0 });
  });

  it("access_denied, an unknown client, a wrong secret, an unknown code, a grpc+proto type and accepted encodings", async () => {
    const before = counts(main.fast);
    const values = await authorizeOnBoth(main);
    for (const s of [main.fast, main.reference]) {
      const user = s === main.fast ? values.fast.user : values.reference.user;
      await s.flow.decide({ userCode: String(user), subject: "alice", approve: false });
    }
    const denied = await both(main, poll, values);
    expect(statusOf(denied.fast)).toBe(String(Code.PermissionDenied));
    const unknown = await both(main, (v) => poll(v, "nobody"), values);
    expect(statusOf(unknown.fast)).toBe(String(Code.Unauthenticated));
    const wrongSecret = await both(main, () => ({
      body: frame(
        pollMessage({ clientId: "confidential-agent", clientSecret: "wrong", deviceCode: "x" }),
      ),
    }));
    expect(statusOf(wrongSecret.fast)).toBe(String(Code.Unauthenticated));
    const rightSecret = await both(main, () => ({
      body: frame(
        pollMessage({
          clientId: "confidential-agent",
          clientSecret: CONFIDENTIAL_SECRET,
          deviceCode: "x",
        }),
      ),
    }));
    expect(statusOf(rightSecret.fast)).toBe(String(Code.InvalidArgument));
    await both(main, () => ({
      headers: {
        ...GRPC_HEADERS,
        "content-type": "application/grpc+proto",
        "grpc-encoding": "identity",
      },
      body: frame(pollMessage({ clientId: "public-cli", deviceCode: "nope" })),
    }));
    // A response encoding the client accepts: named in the headers (the message is small).
    const accepting = await both(main, () => ({
      headers: { ...GRPC_HEADERS, "grpc-accept-encoding": "br, gzip" },
      body: frame(pollMessage({ clientId: "public-cli", deviceCode: "nope" })),
    }));
    expect(new Map(accepting.fast.headers).get("grpc-encoding")).toBe("br");
    // The address behind no trusted proxy: the socket's, X-Forwarded-For ignored.
    await both(main, () => ({
      headers: { ...GRPC_HEADERS, "x-forwarded-for": "203.0.113.9", "user-agent": "t/1" },
      body: [Buffer.alloc(0), frame(pollMessage({ clientId: "public-cli", deviceCode: "x" }))],
    }));
    expect(counts(main.fast).fast - before.fast).toBe(7);
    expect(counts(main.fast).connect).toBe(before.connect);
  });

  it("issued tokens with a response encoding: compressed as connect-es compresses", async () => {
    const values = await authorizeOnBoth(main, { client_id: "public-cli", scope: "read" });
    for (const s of [main.fast, main.reference]) {
      const user = s === main.fast ? values.fast.user : values.reference.user;
      await s.flow.decide({ userCode: String(user), subject: "alice", approve: true });
    }
    const issued = await both(
      main,
      (v) => ({ headers: { ...GRPC_HEADERS, "grpc-accept-encoding": "gzip" }, ...poll(v) }),
      values,
    );
    expect(statusOf(issued.fast)).toBe("0");
    expect(new Map(issued.fast.headers).get("grpc-encoding")).toBe("gzip");
  });

  it("expired_token (RFC 8628 §3.5): DEADLINE_EXCEEDED with the detail", async () => {
    const values = await authorizeOnBoth(short);
    await sleep(2300);
    const expired = await both(short, poll, values);
    expect(statusOf(expired.fast)).toBe(String(Code.DeadlineExceeded));
    const detail = fieldOf(expired.fast, "grpc-status-details-bin");
    expect(detail).toBeDefined();
    expect(counts(short.fast).fast).toBe(1);
  });

  it("a body the fast path reads but does not take: connect-es's own handler answers it", async () => {
    const before = counts(main.fast);
    const ok = frame(pollMessage({ clientId: "public-cli", deviceCode: "x" }));
    const bodies: Array<[string, Buffer | Buffer[], number]> = [
      ["malformed", frame(Buffer.from([0xff, 0xff, 0xff])), Code.InvalidArgument],
      ["compressed flag", frame(pollMessage({ clientId: "public-cli" }), 1), Code.InvalidArgument],
      ["flag 2", frame(pollMessage({ clientId: "public-cli" }), 2), Code.InvalidArgument],
      ["empty", Buffer.alloc(0), Code.Unimplemented],
      ["a cut prefix", Buffer.from([0, 0, 0]), Code.InvalidArgument],
      ["a cut message", ok.subarray(0, ok.length - 1), Code.InvalidArgument],
      ["two messages", [ok, ok], Code.Unimplemented],
      ["over the limit", frame(Buffer.alloc(64 * 1024 + 1)), Code.ResourceExhausted],
      [
        "far over the limit, in parts",
        [frame(Buffer.alloc(200_000)).subarray(0, 100), Buffer.alloc(199_905)],
        Code.ResourceExhausted,
      ],
    ];
    let connect = 0;
    for (const [name, body, code] of bodies) {
      const r = await both(main, () => ({ body }));
      expect(`${name}: ${statusOf(r.fast)}`).toBe(`${name}: ${code}`);
      connect++;
    }
    expect(counts(main.fast).connect - before.connect).toBe(connect);
    expect(counts(main.fast).fast).toBe(before.fast);
  });

  it("what its headers rule out goes to connect-es untouched: encodings, deadlines, Connect, gRPC-Web, JSON", async () => {
    const before = counts(main.fast);
    const message = pollMessage({ clientId: "public-cli", deviceCode: "nope" });
    const cases: Array<[string, http2.OutgoingHttpHeaders, Buffer]> = [
      ["gzip", { ...GRPC_HEADERS, "grpc-encoding": "gzip" }, frame(zlib.gzipSync(message), 1)],
      ["unknown encoding", { ...GRPC_HEADERS, "grpc-encoding": "snappy" }, frame(message)],
      ["a deadline", { ...GRPC_HEADERS, "grpc-timeout": "5S" }, frame(message)],
      ["a bad deadline", { ...GRPC_HEADERS, "grpc-timeout": "soon" }, frame(message)],
      ["a long deadline", { ...GRPC_HEADERS, "grpc-timeout": "99999999H" }, frame(message)],
      [
        "Connect",
        { ...GRPC_HEADERS, "content-type": "application/proto", "connect-protocol-version": "1" },
        Buffer.from(message),
      ],
      [
        "gRPC-Web",
        { ...GRPC_HEADERS, "content-type": "application/grpc-web+proto" },
        frame(message),
      ],
      [
        "gRPC JSON",
        { ...GRPC_HEADERS, "content-type": "application/grpc+json" },
        frame(Buffer.from('{"clientId":"public-cli"}')),
      ],
      [
        "a parameter",
        { ...GRPC_HEADERS, "content-type": "application/grpc; charset=utf-8" },
        frame(message),
      ],
      ["GET", { ...GRPC_HEADERS, ":method": "GET" }, Buffer.alloc(0)],
      ["a query", { ...GRPC_HEADERS, ":path": `${POLL_TOKEN_PATH}?x=1` }, frame(message)],
    ];
    for (const [name, headers, body] of cases) {
      const r = await both(main, () => ({ headers, body }));
      expect(`${name}: ${r.fast.headers.length > 0}`).toBe(`${name}: true`);
    }
    expect(counts(main.fast)).toEqual(before);
  });

  it("connect-es's own gRPC client: pending, then tokens, through the fast path", async () => {
    const before = counts(main.fast);
    const client = createClient(
      DeviceAuthService,
      createGrpcTransport({ baseUrl: main.fast.issuer }),
    );
    const { device_code, user_code } = await authorizeDevice(main.fast);
    const pending = await client
      .pollToken({ clientId: "public-cli", deviceCode: device_code })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(pending?.code).toBe(Code.FailedPrecondition);
    expect(pending?.findDetails(OAuthErrorSchema)[0]?.error).toBe("authorization_pending");
    await main.fast.flow.decide({ userCode: user_code, subject: "alice", approve: true });
    await sleep(1300);
    const tokens = await client.pollToken({ clientId: "public-cli", deviceCode: device_code });
    expect(tokens.tokenType).toBe("Bearer");
    expect(tokens.accessToken).not.toBe("");
    // connect-es's client sends grpc-accept-encoding (gzip, br): still the fast path's.
    await until(() => counts(main.fast).fast - before.fast === 2);
  });
});
