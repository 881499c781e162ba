/** Liveness and readiness for orchestrators. */
import type { FastifyInstance } from "fastify";

/**
 * /healthz: the process answers. /readyz: the state store answers; a Redis
 * store's ping carries the store deadline (src/store/redis-connection.ts), so
 * readiness fails within HANDOFF_REDIS_TIMEOUT_MS when Redis does not answer.
 */
export function healthEndpoints(app: FastifyInstance, ping: () => Promise<void>): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    try {
      await ping();
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "unavailable" });
    }
  });
}
