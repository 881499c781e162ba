/** Creating the ioredis client: one Redis or a Cluster, with bounded waits. */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { OAuthError } from "../domain/oauth-error.js";

export type RedisTarget = { readonly url: string } | { readonly clusterNodes: readonly string[] };

/**
 * Commands fail after `timeoutMs` instead of queueing forever while Redis is
 * away (the store turns that into `temporarily_unavailable`); the client keeps
 * reconnecting in the background, so service resumes without a restart.
 */
export function connectRedis(
  target: RedisTarget,
  timeoutMs: number,
  logger: Logger,
): Redis | Cluster {
  return createClient(target, timeoutMs, logger, false);
}

/**
 * A dedicated connection for pub/sub (a subscribed connection can run no
 * other command). On a Cluster it opens one sharded subscriber per master,
 * so SSUBSCRIBE reaches the node that owns the channel's slot. It fails fast
 * and reconnects like the store's client; ioredis re-subscribes on reconnect.
 */
export function connectSubscriber(
  target: RedisTarget,
  timeoutMs: number,
  logger: Logger,
): Redis | Cluster {
  return createClient(target, timeoutMs, logger, true);
}

function createClient(
  target: RedisTarget,
  timeoutMs: number,
  logger: Logger,
  subscriber: boolean,
): Redis | Cluster {
  const options: RedisOptions = {
    commandTimeout: timeoutMs,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    // Commands issued in the same tick go out in one socket write. Under load
    // that write was the largest single cost of a poll (one syscall per
    // command); each EVALSHA stays its own atomic script.
    enableAutoPipelining: !subscriber,
  };
  const client =
    "url" in target
      ? new Redis(target.url, options)
      : new Cluster(
          target.clusterNodes.map((n) => {
            const [host, port] = n.split(":");
            return { host: host ?? "127.0.0.1", port: Number(port) };
          }),
          {
            redisOptions: options,
            enableAutoPipelining: !subscriber,
            shardedSubscribers: subscriber,
            clusterRetryStrategy: (attempt) => Math.min(attempt * 100, 2000),
          },
        );
  let lastError = "";
  client.on("error", (e: Error) => {
    // One line per distinct failure, not one per reconnect attempt.
    if (e.message !== lastError)
      logger.warn({ err: { message: e.message }, subscriber }, "redis error");
    lastError = e.message;
  });
  client.on("ready", () => {
    if (lastError !== "") logger.info("redis connection restored");
    lastError = "";
  });
  return client;
}

/**
 * Runs one store operation, turning a connection or server failure into the
 * RFC's `temporarily_unavailable` (503 with Retry-After; RPC UNAVAILABLE).
 */
export async function guarded<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (cause) {
    throw new OAuthError("temporarily_unavailable", "the state store is unavailable", { cause });
  }
}
