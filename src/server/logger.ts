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
      redact: {
        paths: [
          "*.authorization",
          "*.cookie",
          "*.client_secret",
          "*.device_code",
          "*.user_code",
          "*.access_token",
          "*.refresh_token",
          "*.password",
          "headers",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
