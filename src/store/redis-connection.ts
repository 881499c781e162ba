/**
 * The one seam between the stores and ioredis: the client, and the deadline
 * every store call gets (README "Scale and failure"). A store built on a RedisConnection cannot issue a
 * command that outlives `deadlineMs`.
 */
import { Cluster, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { OAuthError } from "../domain/oauth-error.js";

export type RedisTarget = { readonly url: string } | { readonly clusterNodes: readonly string[] };

const unavailable = (description: string, cause?: unknown) =>
  new OAuthError("temporarily_unavailable", description, cause === undefined ? {} : { cause });

/**
 * A Redis client (one Redis or a Cluster) and the deadline of every store
 * operation on it. The deadline is a timer of our own around the whole
 * operation, so it holds whatever the client does with the command: ioredis
 * Cluster keeps commands in its offline queue while it has no slots map,
 * where the per-node `commandTimeout` never starts (issue 8: requests hung
 * for minutes with every master down).
 */
export class RedisConnection {
  private wasReady: boolean;

  constructor(
    readonly client: Redis | Cluster,
    /** Longest wait for one store operation, in ms (HANDOFF_REDIS_TIMEOUT_MS). */
    readonly deadlineMs: number,
  ) {
    this.wasReady = client.status === "ready";
    client.on("ready", () => {
      this.wasReady = true;
    });
  }

  /**
   * Runs one store operation: a connection or server failure, or no answer
   * within the deadline, becomes the RFC's `temporarily_unavailable` (503
   * with Retry-After; RPC UNAVAILABLE). Once the client has been ready, a
   * client that is not ready fails at once instead of queueing: during an
   * outage nothing piles up in ioredis's offline queues to run late, and
   * callers hear 503 without waiting out the deadline. Before the first
   * connection the command may queue (bounded by the deadline), so a server
   * started next to a starting Redis serves its first requests.
   *
   * A command that timed out may still run when Redis answers later; the
   * stores are written so that a late run is harmless (a redemption retried
   * within the retry window gets the same tokens; docs/failure.md).
   */
  guard<T>(op: () => Promise<T>): Promise<T> {
    if (this.wasReady && this.client.status !== "ready") {
      return Promise.reject(unavailable("the state store is unavailable"));
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unavailable("the state store did not answer in time")),
        this.deadlineMs,
      );
      let pending: Promise<T>;
      try {
        pending = op();
      } catch (cause) {
        clearTimeout(timer);
        reject(unavailable("the state store is unavailable", cause));
        return;
      }
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (cause: unknown) => {
          clearTimeout(timer);
          reject(
            cause instanceof OAuthError
              ? cause
              : unavailable("the state store is unavailable", cause),
          );
        },
      );
    });
  }

  /** Closes the connection; pending operations fail at once. */
  close(): void {
    this.client.disconnect();
  }
}

/**
 * Connects to one Redis or a Cluster. The client keeps reconnecting in the
 * background, so service resumes without a restart; its own timeouts
 * (`commandTimeout`, `connectTimeout`, `slotsRefreshTimeout`) end waits
 * early where they apply, but the guarantee is the deadline of
 * `RedisConnection.guard`, which does not depend on them.
 */
export function connectRedis(
  target: RedisTarget,
  timeoutMs: number,
  logger: Logger,
): RedisConnection {
  return new RedisConnection(createClient(target, timeoutMs, logger, false), timeoutMs);
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
            slotsRefreshTimeout: timeoutMs,
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
