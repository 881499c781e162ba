/** The process logger: pino, with secrets kept out by construction, written asynchronously. */
import pino, { type Logger } from "pino";

/** Lines are written in batches of at least this many bytes (one write(2) per batch, off the request path). */
const BATCH_BYTES = 4096;
/** A quiet server's lines wait at most this long (ms) for a batch to fill. */
const FLUSH_EVERY_MS = 200;

/**
 * Standard output, written asynchronously with a bounded buffer. A request
 * never waits for a write(2) of its access-log line; once more than ~16 KiB
 * is waiting (sonic-boom's high-water mark), the buffer is written
 * synchronously on the spot: backpressure, never a dropped line. What is
 * still buffered when the process exits is written first: `flushLogs` on a
 * clean shutdown (SIGTERM, SIGINT), and pino's own exit handler, which it
 * registers for every asynchronous destination, on `process.exit`. A quiet
 * server's lines wait at most FLUSH_EVERY_MS.
 */
export function asyncStdout(fd = 1): AsyncDestination {
  const boom = pino.destination({
    dest: fd,
    sync: false,
    minLength: BATCH_BYTES,
    periodicFlush: FLUSH_EVERY_MS,
  });
  return {
    write(line: string) {
      // Over the mark: write now. A batch already in flight may then land after these lines.
      if (!boom.write(line)) flushNow(boom);
    },
    flush(done: (err?: Error) => void) {
      boom.flush(done);
    },
  };
}

/** A log destination whose buffered lines can be written out before the process ends. */
export interface AsyncDestination extends pino.DestinationStream {
  /** Writes out everything buffered (waiting for a write in flight), then calls `done`. */
  flush(done: (err?: Error) => void): void;
}

/** Resolves once every line the logger has buffered is written (what a clean shutdown awaits). */
export function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

function flushNow(boom: ReturnType<typeof pino.destination>): void {
  try {
    boom.flushSync();
  } catch {
    // Not writable (closed descriptor): nothing can be saved.
  }
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
