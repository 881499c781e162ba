/**
 * `GET /metrics`: the Prometheus text format, behind its own bearer
 * credential (HANDOFF_METRICS_TOKEN, compared in constant time; RFC 6750
 * §2.1 header syntax, §3 challenge). Without the setting the path does not
 * exist. docs/operations.md lists the metrics.
 */
import type { FastifyInstance } from "fastify";
import { bearerToken } from "../domain/bearer-credential.js";
import { constantTimeEqual } from "../domain/secret-hash.js";
import { noStore } from "./oauth-reply.js";

/** What the HTTP side needs of the metrics (src/telemetry/metrics.ts implements it). */
export interface HttpMetrics {
  /** One request; `route` is a route template or a fixed word, never a raw path. */
  observeHttp(route: string, method: string, outcome: string, seconds: number): void;
  /** The exposition text and its content type. */
  scrape(): Promise<{ body: string; contentType: string }>;
}

/** Registers the scrape endpoint at `<prefix>/metrics`. */
export function metricsEndpoint(
  app: FastifyInstance,
  metrics: HttpMetrics,
  token: string,
  prefix: string,
): void {
  app.get(`${prefix}/metrics`, async (request, reply) => {
    const presented = bearerToken(request.headers.authorization);
    if (presented === undefined || !constantTimeEqual(presented, token)) {
      const error = presented === undefined ? "" : ', error="invalid_token"';
      return noStore(reply)
        .code(401)
        .header("www-authenticate", `Bearer realm="handoff-metrics"${error}`)
        .send({
          error: "invalid_token",
          error_description: "a valid metrics credential is required",
        });
    }
    const { body, contentType } = await metrics.scrape();
    return noStore(reply).type(contentType).send(body);
  });
}
