/** The process logger: pino, with secrets kept out by construction, written in batches off the request path. */
import pino, { type Logger } from "pino";
import { BatchedLogStream } from "./batched-log-stream.js";

/**
 * Standard output (or another descriptor), written in 16 KiB
 * batches after the current turn, with a bounded buffer (see BatchedLogStream): a request never waits
 * for a write(2) of its access-log line, and no line is ever dropped. What
 * still waits when the process ends is written first: `flushLogs` on a clean
 * shutdown (SIGTERM, SIGINT), a synchronous write on any other `process.exit`.
 */
export function asyncStdout(fd = 1): BatchedLogStream {
  const stream = new BatchedLogStream(fd, { batchChars: 16 * 1024, maxChars: 1024 * 1024 });
  process.once("exit", () => stream.flushSync());
  return stream;
}

/** Resolves once every line the logger has buffered is written (what a clean shutdown awaits). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/**
 * Nothing logged carries a request body, a query string or a header other
 * than the user agent: device codes, user codes (the query of
 * verification_uri_complete), tokens, secrets and cookies live only there.
 * `redact` is a second fence for anything that slips into a log object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "handoff" },
      // Exact paths only: wildcard redaction cost ~3 % of a poll's CPU.
      redact: {
        paths: [
          "headers",
          "req.headers",
          "body",
          "req.body",
          "query",
          "req.query",
          "err.config",
          // ioredis errors carry the failed command with its arguments (key
          // names, packed records with client ids, IPs, user agents).
          "err.command",
          "err.cause.command",
        ],
        censor: "[redacted]",
      },
    },
    destination ?? asyncStdout(),
  );
}
