/**
 * The timed load of `npm run bench` and bench/pair.ts: HTTP/1.1 and gRPC over
 * h2c, written on raw sockets so that the load costs far less than the server
 * it drives. The load shares a core with Redis (README "Benchmarks"); a load
 * generator that needs more of that core than is left measures itself. Here
 * autocannon (HTTP) and node:http2's client (gRPC) did: a bare node:http2
 * server was at 64 % of its core under the node:http2 client and at 99 %
 * under h2load (nghttp2's own C client) with the same streams in flight, and
 * the yardstick's HTTP poll at 71-81 % under autocannon.
 *
 * Each request is built once per body; a connection keeps one request (HTTP)
 * or `streamsPerSession` streams (h2c) in flight and sends the next as an
 * answer completes. The answers counted are checked by kind here (an HTTP
 * status; a gRPC stream closed by its HEADERS), not decoded: the callers
 * check the statuses with real clients first (bench/form-load.ts,
 * bench/grpc-load.ts), in their warm-up.
 */
import net from "node:net";

export interface RawLoadResult {
  readonly rps: number;
  /** Answers, then errors (a reset stream, a closed connection). */
  readonly total: number;
  readonly errors: number;
  /** Latency quantiles, ms. */
  readonly p50: number;
  readonly p99: number;
  /** HTTP status, or for gRPC `trailers-only` / `message`, → count. */
  readonly statuses: Record<string, number>;
}

interface Bound {
  readonly seconds?: number;
  readonly amount?: number;
}

/** Latencies and counts of one run, shared by its connections. */
class Tally {
  readonly latencies: number[] = [];
  readonly statuses: Record<string, number> = {};
  errors = 0;
  sent = 0;
  private turn = 0;
  private readonly started = performance.now();
  private readonly deadline: number;
  private readonly amount: number;

  constructor(b: Bound) {
    this.deadline =
      b.seconds === undefined ? Number.POSITIVE_INFINITY : this.started + b.seconds * 1000;
    this.amount = b.amount ?? Number.POSITIVE_INFINITY;
  }

  /** The next of `list`, in turn across all connections. */
  next<T>(list: readonly T[]): T {
    return list[this.turn++ % list.length] as T;
  }

  more(): boolean {
    return this.sent < this.amount && performance.now() < this.deadline;
  }

  answered(kind: string, t0: number): void {
    this.statuses[kind] = (this.statuses[kind] ?? 0) + 1;
    this.latencies.push(performance.now() - t0);
  }

  result(): RawLoadResult {
    const elapsed = (performance.now() - this.started) / 1000;
    const l = this.latencies.sort((a, b) => a - b);
    const at = (q: number) => l[Math.min(l.length - 1, Math.floor(q * l.length))] ?? 0;
    return {
      rps: l.length / elapsed,
      total: l.length + this.errors,
      errors: this.errors,
      p50: at(0.5),
      p99: at(0.99),
      statuses: this.statuses,
    };
  }
}

function connect(url: URL): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(url.port), url.hostname, () => resolve(s));
    s.setNoDelay(true);
    s.once("error", reject);
  });
}

/** Opens `count` connections, runs `each` on every one until it calls `done`, and tallies them. */
async function onConnections(
  url: URL,
  count: number,
  bound: Bound,
  each: (socket: net.Socket, tally: Tally, done: () => void) => void,
): Promise<RawLoadResult> {
  const sockets = await Promise.all(Array.from({ length: count }, () => connect(url)));
  const tally = new Tally(bound);
  await Promise.all(
    sockets.map((socket) => new Promise<void>((resolve) => each(socket, tally, resolve))),
  );
  for (const s of sockets) s.destroy();
  return tally.result();
}

const HEAD_END = Buffer.from("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length: *(\d+)/i;
const LAST_CHUNK = "0\r\n\r\n";

/**
 * Whether `b` holds a whole answer: its head and then Content-Length bytes,
 * or chunks up to the last one (one request is in flight, so the answer ends
 * the bytes read).
 */
function complete(b: Buffer): boolean {
  const headEnd = b.indexOf(HEAD_END);
  if (headEnd < 0) return false;
  const length = CONTENT_LENGTH.exec(b.toString("latin1", 0, headEnd));
  if (length !== null) return b.length >= headEnd + 4 + Number(length[1]);
  return b.length >= headEnd + 9 && b.toString("latin1", b.length - 5) === LAST_CHUNK;
}

/**
 * Form POSTs over `connections` keep-alive HTTP/1.1 connections, the bodies
 * in turn.
 */
export async function httpLoad(
  target: string,
  bodies: readonly string[],
  o: Bound & { connections: number },
): Promise<RawLoadResult> {
  const url = new URL(target);
  const requests = bodies.map((b) =>
    Buffer.from(
      `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\n` +
        `content-type: application/x-www-form-urlencoded\r\ncontent-length: ${Buffer.byteLength(b)}\r\n\r\n${b}`,
    ),
  );
  return onConnections(url, o.connections, o, (socket, tally, resolve) => {
    let buffered: Buffer | undefined;
    let t0 = 0;
    let waiting = false;
    const send = () => {
      if (!tally.more()) return void socket.end(resolve);
      tally.sent++;
      t0 = performance.now();
      waiting = true;
      socket.write(tally.next(requests));
    };
    // A connection that ends with a request unanswered: an error, counted once.
    const lost = () => {
      if (waiting) tally.errors++;
      waiting = false;
      resolve();
    };
    socket.on("data", (chunk: Buffer) => {
      const b = buffered === undefined ? chunk : Buffer.concat([buffered, chunk]);
      if (!complete(b)) {
        buffered = b;
        return;
      }
      buffered = undefined;
      waiting = false;
      tally.answered(b.toString("latin1", 9, 12), t0);
      send();
    });
    socket.once("close", lost);
    socket.once("error", lost);
    send();
  });
}

// HTTP/2 frames (RFC 9113 §4.1, §6): 9-byte header, then the payload.
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** Windows this client opens for what it reads (2^31 − 1), so it never has to send WINDOW_UPDATE again. */
const MAX_WINDOW = 0x7fffffff;

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(9 + payload.length);
  f.writeUIntBE(payload.length, 0, 3);
  f[3] = type;
  f[4] = flags;
  f.writeUInt32BE(stream, 5);
  payload.copy(f, 9);
  return f;
}

/** An HPACK string literal, not Huffman-coded (RFC 7541 §5.2), for lengths under 127. */
function literal(s: string): Buffer {
  const b = Buffer.from(s);
  if (b.length >= 127) throw new Error("literal too long for this client");
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/**
 * A gRPC call's request header block: static-table names and values where
 * HPACK has them, the rest as literals without indexing (RFC 7541 §6.2.2),
 * so each block stands alone and is made once.
 */
function requestHeaderBlock(url: URL, path: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x83, 0x86]), // :method POST, :scheme http (static 3, 6)
    Buffer.from([0x04]), // :path, name static 4
    literal(path),
    Buffer.from([0x01]), // :authority, name static 1
    literal(url.host),
    Buffer.from([0x0f, 0x10]), // content-type, name static 31
    literal("application/grpc"),
    Buffer.from([0x00]), // te, a new name
    literal("te"),
    literal("trailers"),
  ]);
}

/**
 * Unary gRPC calls over `sessions` h2c connections with `streamsPerSession`
 * calls in flight on each, the (already framed) messages in turn. A call is
 * answered when a HEADERS frame ends its stream: a Trailers-Only answer, or the
 * trailers after a message.
 */
export async function grpcLoad(
  target: string,
  path: string,
  messages: readonly Buffer[],
  o: Bound & { sessions: number; streamsPerSession: number },
): Promise<RawLoadResult> {
  const url = new URL(target);
  const block = requestHeaderBlock(url, path);
  // HEADERS (END_HEADERS) then DATA (END_STREAM); the stream id is written per call.
  const calls = messages.map((m) =>
    Buffer.concat([frame(HEADERS, END_HEADERS, 0, block), frame(DATA, END_STREAM, 0, m)]),
  );
  const dataAt = 9 + block.length;
  const largestData = Math.max(...calls.map((c) => c.length - dataAt - 9));
  return onConnections(url, o.sessions, o, (socket, tally, resolve) => {
    const started = new Map<number, number>();
    const withData = new Set<number>();
    let stream = 1;
    let sendWindow = 65_535; // the connection's, as the server opens it (RFC 9113 §6.9.2)
    let owed = 0; // calls to start once the window allows
    let buffered: Buffer | undefined;
    let closed = false;
    const finish = () => {
      if (closed) return;
      closed = true;
      socket.end(frame(GOAWAY, 0, 0, Buffer.alloc(8)));
      resolve();
    };
    const startCalls = (n: number): Buffer[] => {
      const out: Buffer[] = [];
      owed += n;
      while (owed > 0 && tally.more() && sendWindow >= largestData) {
        const call = tally.next(calls);
        owed--;
        sendWindow -= call.length - dataAt - 9;
        tally.sent++;
        const b = Buffer.from(call);
        b.writeUInt32BE(stream, 5);
        b.writeUInt32BE(stream, dataAt + 5);
        started.set(stream, performance.now());
        stream += 2;
        out.push(b);
      }
      if (started.size === 0 && !tally.more()) finish();
      return out;
    };
    const ended = (id: number, kind: string | undefined) => {
      const t0 = started.get(id);
      if (t0 === undefined) return 0;
      started.delete(id);
      withData.delete(id);
      if (kind === undefined) tally.errors++;
      else tally.answered(kind, t0);
      return 1;
    };
    socket.on("data", (chunk: Buffer) => {
      let b = buffered === undefined ? chunk : Buffer.concat([buffered, chunk]);
      const out: Buffer[] = [];
      let done = 0;
      while (b.length >= 9) {
        const length = b.readUIntBE(0, 3);
        if (b.length < 9 + length) break;
        const type = b[3] as number;
        const flags = b[4] as number;
        const id = b.readUInt32BE(5) & 0x7fffffff;
        const payload = b.subarray(9, 9 + length);
        b = b.subarray(9 + length);
        if (type === HEADERS && flags & END_STREAM) {
          done += ended(id, withData.has(id) ? "message" : "trailers-only");
        } else if (type === DATA) {
          withData.add(id);
          if (flags & END_STREAM) done += ended(id, undefined); // no trailers: no grpc-status
        } else if (type === RST_STREAM) {
          done += ended(id, undefined);
        } else if (type === WINDOW_UPDATE && id === 0) {
          sendWindow += payload.readUInt32BE(0) & 0x7fffffff;
        } else if (type === SETTINGS && !(flags & ACK)) {
          out.push(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
        } else if (type === PING && !(flags & ACK)) {
          out.push(frame(PING, ACK, 0, payload));
        } else if (type === GOAWAY) {
          tally.errors += started.size;
          started.clear();
          owed = 0;
          finish();
          return;
        }
      }
      buffered = b.length > 0 ? Buffer.from(b) : undefined;
      out.push(...startCalls(done));
      if (out.length > 0 && !closed) socket.write(Buffer.concat(out));
    });
    socket.once("close", () => {
      tally.errors += started.size;
      started.clear();
      closed = true;
      resolve();
    });
    socket.once("error", () => {});
    // SETTINGS: no push (0x2), the largest stream window (0x4); then the connection's window.
    const settings = Buffer.alloc(12);
    settings.writeUInt16BE(0x2, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(0x4, 6);
    settings.writeUInt32BE(MAX_WINDOW, 8);
    const grow = Buffer.alloc(4);
    grow.writeUInt32BE(MAX_WINDOW - 65_535, 0);
    socket.write(
      Buffer.concat([
        PREFACE,
        frame(SETTINGS, 0, 0, settings),
        frame(WINDOW_UPDATE, 0, 0, grow),
        ...startCalls(o.streamsPerSession),
      ]),
    );
  });
}
