/** Startup step 1: the logger, the metrics and the one events port every part reports through. */
import type pino from "pino";
import type { FlowEvents } from "../domain/ports/flow-events.js";
import { auditLog, fanOut } from "../telemetry/audit-log.js";
import { timedStore } from "../telemetry/instrumented-stores.js";
import { HandoffMetrics } from "../telemetry/metrics.js";
import type { HandoffConfig } from "./handoff-config.js";
import { createLogger } from "./logger.js";

export interface Telemetry {
  readonly logger: pino.Logger;
  readonly metrics: HandoffMetrics;
  /** Audit log and counters behind one port (docs/operations.md). */
  readonly events: FlowEvents;
  /** The store backend, as the metrics and the "listening" line name it. */
  readonly backend: "memory" | "redis" | "redis-cluster";
  /** Wraps a store so each call is timed under `name`. */
  timed<T extends object>(store: T, name: string): T;
}

export function buildTelemetry(c: HandoffConfig): Telemetry {
  const logger = createLogger(c.logLevel, c.logDestination);
  const metrics = new HandoffMetrics();
  const backend = c.redis ? ("url" in c.redis ? "redis" : "redis-cluster") : "memory";
  return {
    logger,
    metrics,
    events: fanOut(auditLog(logger), metrics.events),
    backend,
    timed: (store, name) => timedStore(store, metrics, backend, name),
  };
}
