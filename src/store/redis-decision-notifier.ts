/**
 * The decision notifier on Redis pub/sub: PUBLISH/SUBSCRIBE on one Redis,
 * sharded pub/sub (Redis 7's SPUBLISH/SSUBSCRIBE) on a Cluster, so a
 * channel lives in its code's hash slot and a message crosses one shard only.
 */
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import type { DecisionNotifier, Unsubscribe } from "../domain/ports/decision-notifier.js";
import { RedisConnection } from "./redis-connection.js";

export interface RedisDecisionNotifierOptions {
  readonly keyPrefix: string;
  readonly logger: Logger;
}

/** What a failed publish or subscription is logged as (the guard's error, or its cause). */
function failure(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  return cause instanceof Error ? cause.message : String(cause);
}

/** One subscribed channel: its local listeners and the acknowledgement of its subscription. */
interface Channel {
  readonly listeners: Set<() => void>;
  readonly ready: Promise<void>;
}

/**
 * `publisher` is the store's own connection (its deadline bounds a publish
 * and, on the dedicated connection, a subscription); `subscriber` is a dedicated
 * connection (a connection in subscribe mode can run no other command; on a
 * Cluster, a client made with `shardedSubscribers: true`). One Redis
 * subscription per channel is shared by every local listener.
 */
export class RedisDecisionNotifier implements DecisionNotifier {
  private readonly channels = new Map<string, Channel>();
  private readonly sharded: boolean;
  private readonly subscriber: RedisConnection;

  constructor(
    private readonly publisher: RedisConnection,
    subscriber: Redis | Cluster,
    private readonly options: RedisDecisionNotifierOptions,
  ) {
    this.sharded = subscriber.isCluster;
    this.subscriber = new RedisConnection(subscriber, publisher.deadlineMs);
    const deliver = (channel: string) => {
      for (const listener of this.channels.get(channel)?.listeners ?? []) listener();
    };
    subscriber.on(this.sharded ? "smessage" : "message", deliver);
    // A subscription that failed while Redis was away is made again once it
    // is back (ioredis re-subscribes only what was acknowledged).
    subscriber.on("ready", () => {
      for (const channel of this.channels.keys()) void this.send("subscribe", channel);
    });
  }

  /** Keys carry the tag in braces: on a Cluster the channel hashes to the code's slot. */
  private channel(tag: string): string {
    return `${this.options.keyPrefix}device:decided:{${tag}}`;
  }

  private async send(op: "subscribe" | "unsubscribe", channel: string): Promise<void> {
    const s = this.subscriber.client;
    try {
      await this.subscriber.guard(() =>
        op === "subscribe"
          ? this.sharded
            ? s.ssubscribe(channel)
            : s.subscribe(channel)
          : this.sharded
            ? s.sunsubscribe(channel)
            : s.unsubscribe(channel),
      );
    } catch (e) {
      this.options.logger.warn(
        { err: { message: failure(e) } },
        `decision notifier: ${op} failed; streams fall back to re-checking`,
      );
    }
  }

  async publish(tag: string): Promise<void> {
    const channel = this.channel(tag);
    const p = this.publisher.client;
    try {
      await this.publisher.guard(() =>
        this.sharded ? (p as Cluster).spublish(channel, "1") : p.publish(channel, "1"),
      );
    } catch (e) {
      this.options.logger.warn(
        { err: { message: failure(e) } },
        "decision notifier: publish failed; waiting streams find the decision on their next re-check",
      );
    }
  }

  async subscribe(tag: string, listener: () => void): Promise<Unsubscribe> {
    const name = this.channel(tag);
    let channel = this.channels.get(name);
    if (channel === undefined) {
      channel = { listeners: new Set(), ready: this.send("subscribe", name) };
      this.channels.set(name, channel);
    }
    const own = () => listener();
    channel.listeners.add(own);
    // Every listener waits for the channel's acknowledgement, not only the first.
    await channel.ready;
    const c = channel;
    return () => {
      c.listeners.delete(own);
      if (c.listeners.size === 0 && this.channels.get(name) === c) {
        this.channels.delete(name);
        void this.send("unsubscribe", name);
      }
    };
  }

  /** Channels with at least one local listener (for tests: nothing leaks after streams end). */
  get subscribedChannels(): number {
    return this.channels.size;
  }

  async close(): Promise<void> {
    this.channels.clear();
    this.subscriber.close();
  }
}
