/** Liveness and readiness for orchestrators. */
import type { FastifyInstance } from "fastify";

/** /healthz: the process answers. /readyz: the state store answers within the timeout. */
export function healthEndpoints(
  app: FastifyInstance,
  ping: () => Promise<void>,
  timeoutMs: number,
): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
        }),
      ]);
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "unavailable" });
    } finally {
      clearTimeout(timer);
    }
  });
}
