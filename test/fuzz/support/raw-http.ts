/**
 * HTTP/1.1 over a bare socket, for requests no well-behaved client would send
 * (fetch and node:http refuse control characters, odd methods and lying
 * headers): writes exact bytes, reads the first answer or the close.
 */
import net from "node:net";

/** A request as bytes on the wire, with headers in order and possibly repeated. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  /** Written as `name: value` lines, latin1, exactly as given. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/** The first response on a connection; `headers` keys are lower-case, repeats joined by ", ". */
export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** What a connection produced: a response (if one was parsed) and whether the server closed it. */
export interface RawOutcome {
  readonly response: RawResponse | undefined;
  readonly closedByServer: boolean;
  /** Neither answered nor closed before the guard timer: a hang. */
  readonly stalled: boolean;
  /** Every byte the server sent. */
  readonly bytes: Buffer;
}

/** Serialises a request with `Host`, `Connection: close` and a correct `Content-Length` unless given. */
export function requestBytes(r: RawRequest): Buffer {
  const names = new Set(r.headers.map(([n]) => n.toLowerCase()));
  const lines = [`${r.method} ${r.path} HTTP/1.1`, "Host: 127.0.0.1"];
  if (!names.has("connection")) lines.push("Connection: close");
  if (!names.has("content-length") && !names.has("transfer-encoding"))
    lines.push(`Content-Length: ${r.body.length}`);
  for (const [n, v] of r.headers) lines.push(`${n}: ${v}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), r.body]);
}

/** Parses the first HTTP/1.x response in `data`, or undefined while it is incomplete. */
export function parseResponse(
  data: Buffer,
  closed: boolean,
  headOnly = false,
): RawResponse | undefined {
  const end = data.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const [statusLine = "", ...lines] = data.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prior = headers.get(name);
    headers.set(name, prior === undefined ? value : `${prior}, ${value}`);
  }
  const rest = data.subarray(end + 4);
  const status = Number(m[1]);
  if (headOnly) return { status, headers, body: Buffer.alloc(0) };
  const length = headers.get("content-length");
  if (length !== undefined) {
    if (rest.length < Number(length)) return undefined;
    return { status, headers, body: rest.subarray(0, Number(length)) };
  }
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const chunked = dechunk(rest);
    if (chunked === undefined) return undefined;
    // Trailer fields (gRPC over HTTP/1.1) join the headers.
    for (const [name, value] of chunked.trailers) headers.set(name, value);
    return { status, headers, body: chunked.body };
  }
  // Neither: the body runs to the close (or is empty for 1xx/204/304).
  if (status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  return closed ? { status, headers, body: rest } : undefined;
}

function dechunk(data: Buffer): { body: Buffer; trailers: [string, string][] } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol === -1) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (Number.isNaN(size)) throw new Error("malformed chunked body");
    if (size === 0) {
      // The last chunk, then trailer lines, then an empty line.
      const start = eol + 2;
      if (data.length < start + 2) return undefined;
      const end =
        data.subarray(start, start + 2).toString("latin1") === "\r\n"
          ? start
          : data.indexOf("\r\n\r\n", start);
      if (end === -1) return undefined;
      const trailers = data
        .subarray(start, end)
        .toString("latin1")
        .split("\r\n")
        .filter((l) => l.includes(":"))
        .map((l): [string, string] => {
          const colon = l.indexOf(":");
          return [l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()];
        });
      return { body: Buffer.concat(parts), trailers };
    }
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * Connects, writes `chunks` (and half-closes if `end`), and resolves once a
 * whole response has arrived or the server closed. `headOnly` is for HEAD
 * requests, whose answer has headers and no body. The `guardMs` timer only
 * ends a test that would otherwise hang: it sets `stalled`, and the caller
 * decides whether that is a failure.
 */
export function exchange(
  port: number,
  chunks: readonly Uint8Array[],
  options: {
    end?: boolean;
    headOnly?: boolean;
    guardMs?: number;
    /** Settles as soon as the bytes so far satisfy this (a non-HTTP/1 answer). */
    until?: (bytes: Buffer) => boolean;
  } = {},
): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let data = Buffer.alloc(0);
    let settled = false;
    const parse = (closed: boolean): RawResponse | undefined => {
      try {
        return parseResponse(data, closed, options.headOnly);
      } catch {
        return undefined;
      }
    };
    const settle = (how: "answered" | "closed" | "stalled") => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      socket.destroy();
      resolve({
        response: parse(how === "closed"),
        closedByServer: how === "closed",
        stalled: how === "stalled",
        bytes: data,
      });
    };
    const guard = setTimeout(() => settle("stalled"), options.guardMs ?? 5000);
    socket.on("data", (d) => {
      data = Buffer.concat([data, d]);
      if (parse(false) || options.until?.(data)) settle("answered");
    });
    socket.on("close", () => settle("closed"));
    socket.on("error", () => settle("closed"));
    socket.on("connect", () => {
      for (const c of chunks) socket.write(c);
      if (options.end) socket.end();
    });
  });
}

/** Sends one request and resolves with its answer. */
export function send(port: number, r: RawRequest): Promise<RawOutcome> {
  return exchange(port, [requestBytes(r)], { headOnly: r.method === "HEAD" });
}
