/**
 * Closing the connection after a request whose answer went out before its
 * body was read (an RPC past readMaxBytes is refused from its Content-Length,
 * or after its first 64 KiB).
 */
import type http from "node:http";

type H1Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * A server must read the whole body or close the connection (RFC 9112 §9.3).
 * Node reads it, but a client that stops sending mid-body once it has the
 * answer (connect-node's HTTP/1.1 transport does) then reuses the connection
 * for its next call, whose bytes become the rest of the old body: that call
 * failed with ECONNRESET (found by test/fuzz/rpc-messages.test.ts). So a
 * response written before the body arrived says `Connection: close`, as
 * fastify's 413 does.
 */
export function closeUnreadH1Requests(handler: H1Handler): H1Handler {
  return (req, res) => {
    // Bodyless requests count as complete only once the parser is done: leave them alone.
    const hasBody =
      req.headers["transfer-encoding"] !== undefined ||
      Number(req.headers["content-length"] ?? "0") > 0;
    const writeHead = res.writeHead;
    res.writeHead = ((...args: unknown[]) => {
      if (hasBody && !req.complete) res.shouldKeepAlive = false;
      return writeHead.apply(res, args as Parameters<typeof writeHead>);
    }) as typeof res.writeHead;
    handler(req, res);
  };
}
