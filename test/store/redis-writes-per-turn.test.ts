/**
 * One socket write per event-loop turn on one Redis, with earlier turns'
 * commands still in flight (WritesPerTurn, src/store/redis-connection.ts),
 * against a real redis-server: the socket's physical writes are counted.
 */
import type { Socket } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { testConnection, useRedis } from "../support/redis-server.js";

const redis = useRedis();
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Counts the socket's writes to the kernel (one `_write` or one `_writev` each). */
function countWrites(socket: Socket): { readonly count: number } {
  const counter = { count: 0 };
  const s = socket as Socket & {
    _write: (...a: unknown[]) => void;
    _writev?: (...a: unknown[]) => void;
  };
  const write = s._write.bind(s);
  s._write = (...a) => {
    counter.count++;
    write(...a);
  };
  const writev = s._writev?.bind(s);
  if (writev) {
    s._writev = (...a) => {
      counter.count++;
      writev(...a);
    };
  }
  return counter;
}

describe("WritesPerTurn (one Redis)", () => {
  const clients: Redis[] = [];
  const client = async () => {
    const c = new Redis(redis.server.url);
    clients.push(c);
    await c.ping();
    return c;
  };
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  it("sends the commands of a turn's store operations in one socket write, in order", async () => {
    const c = await client();
    const connection = testConnection(c);
    const writes = countWrites(c.stream);
    const replies = Array.from({ length: 20 }, (_, i) =>
      connection.guard(() =>
        c.set(`writes-per-turn:${i}`, String(i)).then(() => c.get(`writes-per-turn:${i}`)),
      ),
    );
    // The SETs leave together; each GET follows its SET's reply, in a later turn.
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(writes.count).toBeLessThanOrEqual(3);
    const before = writes.count;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => connection.guard(() => c.get(`writes-per-turn:${i}`))),
    );
    expect(writes.count - before).toBe(1);
  });

  it("writes a turn's commands while an earlier turn's are still unanswered", async () => {
    const c = await client();
    const connection = testConnection(c);
    const admin = await client();
    // Redis holds every client's commands for 500 ms: nothing is answered.
    await admin.call("CLIENT", "PAUSE", "500", "ALL");
    const writes = countWrites(c.stream);
    const settled: string[] = [];
    const first = connection.guard(() => c.echo("first")).then((r) => settled.push(r));
    await nextTurn();
    await nextTurn();
    const second = connection.guard(() => c.echo("second")).then((r) => settled.push(r));
    await nextTurn();
    await nextTurn();
    // Both turns are on the wire, neither answered (ioredis's auto-pipelining
    // would hold the second until the first's reply: one write here).
    expect(settled).toEqual([]);
    expect(writes.count).toBe(2);
    await Promise.all([first, second]);
    expect(settled).toEqual(["first", "second"]);
  });

  it("leaves a Cluster-style auto-pipelining client to ioredis", async () => {
    const c = new Redis(redis.server.url, { enableAutoPipelining: true });
    clients.push(c);
    await c.ping();
    const connection = testConnection(c);
    const writes = countWrites(c.stream);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => connection.guard(() => c.get(`writes-per-turn:${i}`))),
    );
    // ioredis's own pipeline: still one write for the turn.
    expect(writes.count).toBe(1);
    expect(c.stream.writableCorked).toBe(0);
  });
});
