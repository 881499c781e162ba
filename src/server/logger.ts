/** The process logger: pino, with secrets kept out by construction. */
import pino, { type Logger } from "pino";

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
    destination,
  );
}
