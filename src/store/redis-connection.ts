/**
 * The one seam between the stores and ioredis: the client, and the deadline
 * every store call gets (README "Scale and failure"). A store built on a RedisConnection cannot issue a
 * command that outlives `deadlineMs`.
 */

import type { Socket } from "node:net";
import { Cluster, Command, Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import { OAuthError } from "../domain/oauth-error.js";
import { OperationDeadlines } from "./operation-deadlines.js";

export type RedisTarget = { readonly url: string } | { readonly clusterNodes: readonly string[] };

const unavailable = (description: string, cause?: unknown) =>
  new OAuthError("temporarily_unavailable", description, cause === undefined ? {} : { cause });

/**
 * Redis `WAIT` after the writes that must survive a failover
 * (HANDOFF_REDIS_WAIT_REPLICAS, docs/failure.md "Replication"). Off when
 * `replicas` is 0.
 */
export interface ReplicationWait {
  /** Replicas that must hold the write before it is answered. */
  readonly replicas: number;
  /** WAIT's own timeout, ms; below the store deadline. */
  readonly timeoutMs: number;
  /**
   * A write answered with fewer replicas than asked: `acked` of them held it
   * when WAIT timed out, or the node's replicas were already known short
   * (`skipped`: no WAIT sent, see `SHORT_REPLICAS_BACKOFF_MS`).
   */
  readonly onShort?: (event: { acked: number; skipped: boolean }) => void;
}

/**
 * After a WAIT came back short on a node, WAITs to that node are skipped for
 * this long, and its durable writes refused at once. Redis blocks the
 * connection that sent WAIT until it returns, and every command of this
 * process to that node shares the connection: a shard without its replica
 * (a failover just happened) would otherwise stall all its traffic for the
 * WAIT timeout on every durable write.
 */
export const SHORT_REPLICAS_BACKOFF_MS = 1000;

const NO_WAIT: ReplicationWait = { replicas: 0, timeoutMs: 0 };

/**
 * Commands a busy turn holds before it writes them, so Redis starts on the
 * first while the turn makes the rest. Holding a whole turn (up to one
 * command per request in flight) left Redis idle until the turn's end and
 * handoff idle while Redis caught up: measured with bench/pair.ts (6
 * interleaved rounds, 50 connections, the server on one core), the server
 * was busy 82-85 % of the time; writing every 8 commands, 96-97 %, and 34 %
 * more device authorizations and 17 % more polls a second. Writing every
 * command took the most CPU a request of the three (docs/architecture.md
 * "Redis").
 */
export const COMMANDS_PER_WRITE = 8;

/**
 * Few socket writes for the commands a turn of the event loop sends to one
 * Redis, as ioredis's auto-pipelining does, without its one batch in flight.
 * ioredis sends an auto-pipeline only once the previous one on the
 * connection is answered ("ioredis won't serve two pipelines at the same
 * time", autoPipelining.js), so under load each turn's commands waited a
 * whole Redis round trip behind the last turn's, and handoff sat idle
 * (27 % of a device-authorization profile) with requests queued. Here the
 * socket is corked when a turn sends its first command, written every
 * COMMANDS_PER_WRITE commands, and uncorked in the check phase (setImmediate,
 * where ioredis flushed too): the turn's commands leave in a few writev, each
 * in its order, while earlier turns' are still being answered. Redis answers
 * one connection's commands in order either way. Measured (bench/pair.ts, 4
 * rounds, interleaved): device authorizations 11.1k -> 16.6k req/s, polls
 * 18.0k -> 21.6k, with less CPU a request (docs/architecture.md "Redis").
 */
export function writesPerTurn(client: Redis): void {
  let corked: Socket | undefined;
  let held = 0;
  const release = (): void => {
    const socket = corked;
    corked = undefined;
    // The socket it corked, even if a reconnect has replaced it since.
    socket?.uncork();
  };
  // `sendCommand` is the one door every command goes through (a store's, a
  // WAIT, a read after a reply), so whatever a turn sends is held together.
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    if (corked === undefined && client.status === "ready") {
      corked = client.stream;
      corked.cork();
      held = 0;
      setImmediate(release);
    }
    const sent = send(command, stream);
    if (corked !== undefined && ++held === COMMANDS_PER_WRITE) {
      held = 0;
      corked.uncork();
      corked.cork();
    }
    return sent;
  };
}

/**
 * A Redis client (one Redis or a Cluster) and the deadline of every store
 * operation on it. The deadline is a timer of our own around the whole
 * operation, so it holds whatever the client does with the command: ioredis
 * Cluster keeps commands in its offline queue while it has no slots map,
 * where the per-node `commandTimeout` never starts (requests were seen to
 * hang for minutes with every master down; docs/failure.md).
 */
export class RedisConnection {
  private wasReady: boolean;
  /** Node (`host:port`, or "" for one Redis) → until when its replicas are taken as short. */
  private readonly shortUntil = new Map<string, number>();
  private readonly deadlines: OperationDeadlines;

  constructor(
    readonly client: Redis | Cluster,
    /** Longest wait for one store operation, in ms (HANDOFF_REDIS_TIMEOUT_MS). */
    readonly deadlineMs: number,
    /** WAIT after durable writes (HANDOFF_REDIS_WAIT_REPLICAS); off by default. */
    readonly replication: ReplicationWait = NO_WAIT,
  ) {
    this.deadlines = new OperationDeadlines(deadlineMs);
    // One Redis without ioredis's auto-pipelining: a turn's commands in one write.
    if (client instanceof Redis && !client.options.enableAutoPipelining) writesPerTurn(client);
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
      const expire = () => reject(unavailable("the state store did not answer in time"));
      const deadline = this.deadlines.start(expire);
      let pending: Promise<T>;
      try {
        pending = op();
      } catch (cause) {
        deadline.delete(expire);
        reject(unavailable("the state store is unavailable", cause));
        return;
      }
      pending.then(
        (value) => {
          deadline.delete(expire);
          resolve(value);
        },
        (cause: unknown) => {
          deadline.delete(expire);
          reject(
            cause instanceof OAuthError
              ? cause
              : unavailable("the state store is unavailable", cause),
          );
        },
      );
    });
  }

  /**
   * `guard` for a write that must not be lost in a failover: an approval or
   * denial, a consumption, a refresh rotation, a revocation. With
   * HANDOFF_REDIS_WAIT_REPLICAS set, once `op` has answered (and `durable`
   * says its answer wrote something that matters), `WAIT replicas timeout`
   * goes to the master that holds `key`, on the connection that sent the
   * write: WAIT counts the replicas that acknowledged that connection's
   * writes so far. WAIT cannot run inside a script, so it is its own command.
   *
   * What its answer does (docs/failure.md "Replication"):
   * - enough replicas: the write is answered; a failover now keeps it;
   * - fewer within the timeout (or the node's replicas known short, see
   *   `SHORT_REPLICAS_BACKOFF_MS`): the master holds the write, but a
   *   failover now could undo it, so it is not answered as done:
   *   `temporarily_unavailable`, and `onShort` counts it (metric and log).
   *   The caller's retry is safe and finds the write done (a decision:
   *   already decided; a consumption: the same token set within the retry
   *   window), answered once a replica holds it; until then a shard without
   *   an in-sync replica refuses durable writes;
   * - no answer (the master died after the write, or the deadline passed):
   *   `temporarily_unavailable`, as for any store call that did not finish;
   *   the write may be lost with the master, and the caller's retry is safe.
   * All of it within the one deadline of `guard`.
   */
  guardDurable<T>(key: string, op: () => Promise<T>, durable: (r: T) => boolean = () => true) {
    if (this.replication.replicas === 0) return this.guard(op);
    return this.guard(async () => {
      const r = await op();
      if (durable(r)) await this.waitForReplicas(key);
      return r;
    });
  }

  private async waitForReplicas(key: string): Promise<void> {
    const { replicas, timeoutMs, onShort } = this.replication;
    const node = this.nodeOf(key);
    const now = Date.now();
    if ((this.shortUntil.get(node.name) ?? 0) > now) {
      onShort?.({ acked: 0, skipped: true });
      throw unavailable("no replica holds the write yet (HANDOFF_REDIS_WAIT_REPLICAS)");
    }
    const acked = Number(await node.redis.call("WAIT", replicas, timeoutMs));
    if (acked < replicas) {
      this.shortUntil.set(node.name, Date.now() + SHORT_REPLICAS_BACKOFF_MS);
      onShort?.({ acked, skipped: false });
      throw unavailable(
        `${acked} of ${replicas} replicas hold the write (HANDOFF_REDIS_WAIT_REPLICAS)`,
      );
    } else {
      this.shortUntil.delete(node.name);
    }
  }

  /**
   * The connection that holds `key`'s slot. After a write to the key has
   * answered, ioredis's slots map names the node that ran it (a MOVED on the
   * way updated the map), and each node has one connection in its pool.
   */
  private nodeOf(key: string): { name: string; redis: Redis } {
    if (this.client instanceof Redis) return { name: "", redis: this.client };
    // ioredis's own slot function (CRC16 of the hash tag), through its Command.
    const slot = new Command("get", [key]).getSlot();
    const name = this.client.slots[slot]?.[0];
    const redis = this.client
      .nodes("master")
      .find((n) => `${n.options.host}:${n.options.port}` === name);
    if (name === undefined || redis === undefined) {
      throw unavailable(`no connection to the master of slot ${slot}`);
    }
    return { name, redis };
  }

  /** Closes the connection; pending operations fail at once. */
  close(): void {
    this.client.disconnect();
  }
}

/**
 * Connects to one Redis or a Cluster. The client keeps reconnecting in the
 * background, so service resumes without a restart; its own timeouts
 * (`connectTimeout`, `slotsRefreshTimeout`) end waits
 * early where they apply, but the guarantee is the deadline of
 * `RedisConnection.guard`, which does not depend on them.
 */
export function connectRedis(
  target: RedisTarget,
  timeoutMs: number,
  logger: Logger,
  replication: ReplicationWait = NO_WAIT,
): RedisConnection {
  let lastShortLog = 0;
  return new RedisConnection(createClient(target, timeoutMs, logger, false), timeoutMs, {
    ...replication,
    onShort: (event) => {
      replication.onShort?.(event);
      // One line per backoff period, not one per write.
      if (!event.skipped && Date.now() - lastShortLog >= SHORT_REPLICAS_BACKOFF_MS) {
        lastShortLog = Date.now();
        logger.warn(
          { acked: event.acked, wanted: replication.replicas },
          "redis: a durable write reached fewer replicas than HANDOFF_REDIS_WAIT_REPLICAS; answered 503",
        );
      }
    },
  });
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
    // The store's commands run under RedisConnection's deadline, which holds
    // in every client state; ioredis's per-command timer would be a second
    // timer per command. The subscriber's commands (SUBSCRIBE) keep it.
    ...(subscriber ? { commandTimeout: timeoutMs } : {}),
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    // Commands issued in the same turn go out in one socket write (one
    // syscall per command was the largest single cost of a poll): on a
    // Cluster by ioredis's auto-pipelining, on one Redis by WritesPerTurn,
    // which does not hold a turn's commands until the previous turn's are
    // answered. Each EVALSHA stays its own atomic script.
    enableAutoPipelining: !subscriber && !("url" in target),
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
            // Every command to a master: a replica may not have the latest
            // write yet (a consumed code read there would look approved).
            scaleReads: "master",
            // A failover (docs/failure.md "Failover"): a command to the lost
            // master, or a CLUSTERDOWN while its replica takes over, fails at
            // once and the caller hears 503, instead of ioredis re-sending it
            // on its own every 100 ms: a re-sent command could run after its
            // caller had been told 503 (a charge of a guess counter never
            // refunded, a consumption nobody received). MOVED is still
            // followed at once, so the promoted replica is found by the first
            // command that meets the new map (and the slots map is refreshed).
            retryDelayOnFailover: 0,
            retryDelayOnClusterDown: 0,
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
