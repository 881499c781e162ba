/**
 * Startup step 2: the state stores. Redis when configured (every instance
 * shares them), else memory; the composition root is the only place that
 * chooses an adapter (docs/architecture.md).
 */
import { AttemptLimiter } from "../auth/attempt-limits.js";
import type { AuthorizationCodeStore } from "../domain/ports/authorization-code-store.js";
import type { ClientStore } from "../domain/ports/client-store.js";
import type { DecisionNotifier } from "../domain/ports/decision-notifier.js";
import type { DeviceStore } from "../domain/ports/device-store.js";
import type { TokenStore } from "../domain/ports/token-store.js";
import { MemoryAttemptCounter } from "../store/memory-attempt-counter.js";
import { MemoryAuthorizationCodeStore } from "../store/memory-authorization-code-store.js";
import { MemoryClientStore } from "../store/memory-client-store.js";
import { MemoryDecisionNotifier } from "../store/memory-decision-notifier.js";
import { MemoryDeviceStore } from "../store/memory-device-store.js";
import { MemoryTokenStore } from "../store/memory-token-store.js";
import { RedisAttemptCounter } from "../store/redis-attempt-counter.js";
import { RedisAuthorizationCodeStore } from "../store/redis-authorization-code-store.js";
import { RedisClientStore } from "../store/redis-client-store.js";
import {
  connectRedis,
  connectSubscriber,
  type RedisConnection,
} from "../store/redis-connection.js";
import { RedisDecisionNotifier } from "../store/redis-decision-notifier.js";
import { RedisDeviceStore } from "../store/redis-device-store.js";
import { RedisTokenStore } from "../store/redis-token-store.js";
import { reportingRefusals } from "../telemetry/instrumented-stores.js";
import type { Telemetry } from "./build-telemetry.js";
import type { HandoffConfig } from "./handoff-config.js";

export interface Stores {
  /** The Redis connection the stores share; undefined on the memory store. */
  readonly redis: RedisConnection | undefined;
  readonly device: DeviceStore;
  readonly token: TokenStore;
  readonly codes: AuthorizationCodeStore;
  /** Clients kept in the state store (RFC 7591 registrations). */
  readonly clients: ClientStore;
  /** Cached Client ID Metadata Documents (another space of the store), when they are on. */
  readonly documents: ClientStore | undefined;
  /** Decisions wake WaitToken streams on every instance. */
  readonly notifier: DecisionNotifier;
  /** Guess and authentication limits, shared by every instance through the store. */
  readonly limiter: AttemptLimiter;
  close(): Promise<void>;
}

export function buildStores(c: HandoffConfig, t: Telemetry): Stores {
  const redis = c.redis
    ? connectRedis(c.redis, c.redisTimeoutMs, t.logger, {
        replicas: c.redisWaitReplicas,
        timeoutMs: c.redisWaitTimeoutMs,
        onShort: (e) => t.metrics.replicationShort(e.skipped),
      })
    : undefined;
  const keyPrefix = c.redisKeyPrefix;
  const device: DeviceStore = t.timed(
    redis
      ? new RedisDeviceStore(redis, { keyPrefix })
      : new MemoryDeviceStore({ maxPending: c.memoryMaxPending }),
    "device",
  );
  const token: TokenStore = t.timed(
    redis
      ? new RedisTokenStore(redis, { keyPrefix, maxPerSubject: c.connectionsMaxPerSubject })
      : new MemoryTokenStore(Date.now, undefined, c.connectionsMaxPerSubject),
    "token",
  );
  const limiter = new AttemptLimiter(
    reportingRefusals(
      t.timed(redis ? new RedisAttemptCounter(redis) : new MemoryAttemptCounter(), "attempt"),
      t.events,
    ),
    c.attemptLimits,
    keyPrefix,
  );
  const clients: ClientStore = redis
    ? new RedisClientStore(redis, { keyPrefix, space: "registered" })
    : new MemoryClientStore();
  const documents: ClientStore | undefined = !c.metadataDocuments
    ? undefined
    : redis
      ? new RedisClientStore(redis, { keyPrefix, space: "document" })
      : new MemoryClientStore();
  // Pub/sub needs a connection of its own.
  const notifier: DecisionNotifier =
    redis && c.redis
      ? new RedisDecisionNotifier(redis, connectSubscriber(c.redis, c.redisTimeoutMs, t.logger), {
          keyPrefix,
          logger: t.logger,
        })
      : new MemoryDecisionNotifier();
  const codes: AuthorizationCodeStore = redis
    ? new RedisAuthorizationCodeStore(redis, { keyPrefix })
    : new MemoryAuthorizationCodeStore({ maxCodes: c.memoryMaxPending });
  return {
    redis,
    device,
    token,
    codes,
    clients,
    documents,
    notifier,
    limiter,
    async close() {
      await notifier.close();
      await token.close();
      await clients.close();
      await codes.close();
      await documents?.close();
      await device.close();
    },
  };
}
