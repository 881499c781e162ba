/**
 * The decision notifier on Redis pub/sub: PUBLISH/SUBSCRIBE on one Redis,
 * sharded pub/sub (Redis 7's SPUBLISH/SSUBSCRIBE) on a Cluster, so a
 * channel lives in its code's hash slot and a message crosses one shard only.
 */
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import type { DecisionNotifier, Unsubscribe } from "../domain/ports/decision-notifier.js";

export interface RedisDecisionNotifierOptions {
  readonly keyPrefix: string;
  /** Longest wait for a publish or a subscription to be acknowledged. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** Settles to "ok", the error, or "timeout" after `ms`; never rejects. */
async function bounded<T>(op: Promise<T>, ms: number): Promise<"ok" | "timeout" | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  try {
    return await Promise.race([op.then(() => "ok" as const), timeout]);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
  }
}

/** One subscribed channel: its local listeners and the acknowledgement of its subscription. */
interface Channel {
  readonly listeners: Set<() => void>;
  readonly ready: Promise<void>;
}

/**
 * `publisher` is the store's own client; `subscriber` is a dedicated
 * connection (a connection in subscribe mode can run no other command; on a
 * Cluster, a client made with `shardedSubscribers: true`). One Redis
 * subscription per channel is shared by every local listener.
 */
export class RedisDecisionNotifier implements DecisionNotifier {
  private readonly channels = new Map<string, Channel>();
  private readonly sharded: boolean;

  constructor(
    private readonly publisher: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly options: RedisDecisionNotifierOptions,
  ) {
    this.sharded = subscriber.isCluster;
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
    const s = this.subscriber;
    const command =
      op === "subscribe"
        ? this.sharded
          ? s.ssubscribe(channel)
          : s.subscribe(channel)
        : this.sharded
          ? s.sunsubscribe(channel)
          : s.unsubscribe(channel);
    const result = await bounded(command, this.options.timeoutMs);
    if (result !== "ok") {
      this.options.logger.warn(
        { err: { message: result === "timeout" ? "timed out" : result.message } },
        `decision notifier: ${op} failed; streams fall back to re-checking`,
      );
    }
  }

  async publish(tag: string): Promise<void> {
    const channel = this.channel(tag);
    const p = this.publisher;
    const result = await bounded(
      this.sharded ? (p as Cluster).spublish(channel, "1") : p.publish(channel, "1"),
      this.options.timeoutMs,
    );
    if (result !== "ok") {
      this.options.logger.warn(
        { err: { message: result === "timeout" ? "timed out" : result.message } },
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
    this.subscriber.disconnect();
  }
}
