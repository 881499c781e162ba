/**
 * One port for every protocol. Node's cleartext `http2.createServer` refuses
 * HTTP/1.1 (`allowHTTP1` needs TLS/ALPN), so this reads the first bytes of each
 * connection: the HTTP/2 preface goes to the HTTP/2 server (gRPC, Connect over
 * h2c), anything else to the HTTP/1.1 server (Connect, gRPC-Web, RFC endpoints).
 *
 * It uses `read()` on 'readable' plus `unshift`, then emits 'connection' on the
 * chosen server (a 'data'-listener variant was seen to break HTTP/2 with GOAWAY).
 */
import type http from "node:http";
import type http2 from "node:http2";
import net from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

export interface SnifferOptions {
  /** A connection that sends nothing for this long is closed (slowloris on the first bytes). */
  readonly firstBytesTimeoutMs: number;
  /**
   * Open connections (HTTP/1.1 and HTTP/2 sessions alike) held at most; Node
   * closes a connection past it as soon as it is accepted (`net.Server`
   * `maxConnections`), so a flood of idle sockets cannot use up the file
   * descriptors the server needs (docs/hostile-input.md).
   */
  readonly maxConnections?: number;
  /** Told, at most once a minute, how many connections were closed so. */
  readonly onDropped?: (count: number) => void;
  /** TLS mode (src/server/tls-front.ts): every connection goes to TLS, and ALPN picks the server. */
  readonly tls?: { accept(socket: net.Socket): void };
}

/** The servers a sniffed connection is handed to; set once they exist. */
export interface SniffTargets {
  h1?: http.Server;
  h2?: http2.Http2Server;
}

/** The listening server plus every socket it accepted, for a bounded shutdown. */
export interface Sniffer {
  readonly server: net.Server;
  readonly sockets: ReadonlySet<net.Socket>;
}

export function createProtocolSniffer(targets: SniffTargets, options: SnifferOptions): Sniffer {
  const sockets = new Set<net.Socket>();
  // TCP_NODELAY on every connection, as node:http's own server sets it (its
  // `noDelay` defaults to true; a plain net.Server's to false, and sockets
  // handed over by 'connection' keep what the listening server set): with
  // Nagle's algorithm a small write waits for the peer's ACK of the last one,
  // which a delayed ACK can hold for 40 ms or more (HTTP/2 frames, WaitToken
  // heartbeats, a TLS record after the handshake).
  const server = net.createServer({ pauseOnConnect: false, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (options.tls) {
      options.tls.accept(socket);
      return;
    }
    let seen = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), options.firstBytesTimeoutMs);
    timer.unref();
    const finish = (target: http.Server | http2.Http2Server | undefined) => {
      clearTimeout(timer);
      if (!target) {
        socket.destroy(); // still starting up
        return;
      }
      socket.removeListener("readable", onReadable);
      socket.removeListener("error", onError);
      socket.removeListener("end", onEnd);
      socket.unshift(seen);
      target.emit("connection", socket);
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      // biome-ignore lint/suspicious/noAssignInExpressions: the stream idiom
      while ((chunk = socket.read()) !== null) seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      if (seen.subarray(0, n).equals(PREFACE.subarray(0, n))) {
        if (seen.length >= PREFACE.length) finish(targets.h2);
        // else: a prefix of the preface so far; wait for more bytes.
      } else {
        finish(targets.h1);
      }
    };
    const onError = () => socket.destroy();
    const onEnd = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on("readable", onReadable);
    socket.on("error", onError);
    socket.on("end", onEnd);
  });
  if (options.maxConnections !== undefined) server.maxConnections = options.maxConnections;
  let dropped = 0;
  let reportAt = 0;
  server.on("drop", () => {
    dropped++;
    const now = Date.now();
    if (now >= reportAt) {
      options.onDropped?.(dropped);
      dropped = 0;
      reportAt = now + 60_000;
    }
  });
  return { server, sockets };
}
