/**
 * A gRPC load generator over h2c on node:http2's client: a pool of HTTP/2
 * sessions, each with a fixed number of streams in flight, for `seconds` or
 * for `amount` calls. It reads every answer's grpc-status (in the headers of
 * a trailers-only answer, or in the trailers), so it is the check before a
 * timed load (bench/run.ts) and the load of bench/instructions.ts, which
 * counts the server's instructions and not its rate. It costs about as much
 * a call as the server it drives, too much to time a server with on the core
 * it shares with Redis: bench/raw-load.ts is the timed load.
 */
import http2 from "node:http2";

export interface GrpcLoadResult {
  readonly rps: number;
  readonly total: number;
  readonly p50: number;
  readonly p99: number;
  /** grpc-status → count. */
  readonly statuses: Record<string, number>;
  readonly errors: number;
}

/** One gRPC message frame: flag 0 (not compressed), 4-byte big-endian length, bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** Drives `path` on `url` with `sessions` × `streamsPerSession` concurrent unary calls. */
export async function grpcLoad(
  url: string,
  path: string,
  bodies: readonly Buffer[],
  o: { sessions: number; streamsPerSession: number; seconds?: number; amount?: number },
): Promise<GrpcLoadResult> {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = o.seconds === undefined ? Number.POSITIVE_INFINITY : started + o.seconds * 1000;
  const amount = o.amount ?? Number.POSITIVE_INFINITY;
  const sessions = Array.from({ length: o.sessions }, () => http2.connect(url));
  await Promise.all(
    sessions.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          s.once("connect", () => resolve());
          s.once("error", reject);
        }),
    ),
  );
  const headers = {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  };

  const call = (session: http2.ClientHttp2Session) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      let status: string | undefined;
      const stream = session.request(headers);
      stream.on("response", (h) => {
        if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      });
      stream.on("trailers", (h) => {
        if (h["grpc-status"] !== undefined) status = String(h["grpc-status"]);
      });
      stream.on("data", () => {});
      stream.once("close", () => {
        if (status === undefined) errors++;
        else {
          statuses[status] = (statuses[status] ?? 0) + 1;
          latencies.push(performance.now() - t0);
        }
        resolve();
      });
      stream.once("error", () => {});
      stream.end(bodies[next++ % bodies.length]);
    });

  const worker = async (session: http2.ClientHttp2Session) => {
    while (next < amount && performance.now() < deadline) await call(session);
  };
  await Promise.all(
    sessions.flatMap((s) => Array.from({ length: o.streamsPerSession }, () => worker(s))),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const s of sessions) s.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    rps: latencies.length / elapsed,
    total: latencies.length + errors,
    p50: at(0.5),
    p99: at(0.99),
    statuses,
    errors,
  };
}
