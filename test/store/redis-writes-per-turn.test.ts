/**
 * Few socket writes per event-loop turn on one Redis, the first of a busy
 * turn's before the turn ends, with earlier turns' commands still in flight
 * (writesPerTurn, src/store/redis-connection.ts), against a real
 * redis-server: the socket's physical writes are watched.
 */
import type { Socket } from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { COMMANDS_PER_WRITE } from "../../src/store/redis-connection.js";
import { testConnection, useRedis } from "../support/redis-server.js";

const redis = useRedis();
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

interface Write {
  /** Commands in the write (ioredis writes each command as one chunk). */
  readonly commands: number;
  /** Whether the turn that sent them had ended (`turn.ended`, set by the test). */
  readonly afterTurn: boolean;
}

/** Watches the socket's writes to the kernel (one `_write` or one `_writev` each). */
function watchWrites(socket: Socket, turn = { ended: false }): Write[] {
  const writes: Write[] = [];
  const s = socket as Socket & {
    _write: (...a: unknown[]) => void;
    _writev: (chunks: unknown[], cb: unknown) => void;
  };
  const write = s._write.bind(s);
  s._write = (...a) => {
    writes.push({ commands: 1, afterTurn: turn.ended });
    write(...a);
  };
  const writev = s._writev.bind(s);
  s._writev = (chunks, cb) => {
    writes.push({ commands: chunks.length, afterTurn: turn.ended });
    writev(chunks, cb);
  };
  return writes;
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

  it("sends a turn's store operations in few socket writes, replies in order", async () => {
    const c = await client();
    const connection = testConnection(c);
    const writes = watchWrites(c.stream);
    const replies = Array.from({ length: 20 }, (_, i) =>
      connection.guard(() =>
        c.set(`writes-per-turn:${i}`, String(i)).then(() => c.get(`writes-per-turn:${i}`)),
      ),
    );
    // The SETs leave together; each GET follows its SET's reply, in a later turn.
    expect(await Promise.all(replies)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(writes.length).toBeLessThanOrEqual(2 * Math.ceil(20 / COMMANDS_PER_WRITE) + 1);
    const before = writes.length;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => connection.guard(() => c.get(`writes-per-turn:${i}`))),
    );
    expect(writes.length - before).toBeLessThanOrEqual(Math.ceil(20 / COMMANDS_PER_WRITE));
  });

  it(`a busy turn writes every ${COMMANDS_PER_WRITE} commands, the first before the turn ends, so Redis starts on them`, async () => {
    const c = await client();
    const connection = testConnection(c);
    const turn = { ended: false };
    const writes = watchWrites(c.stream, turn);
    const n = 3 * COMMANDS_PER_WRITE + 3;
    const replies = Array.from({ length: n }, (_, i) => connection.guard(() => c.echo(`c${i}`)));
    turn.ended = true;
    expect(await Promise.all(replies)).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
    expect(writes[0]).toEqual({ commands: COMMANDS_PER_WRITE, afterTurn: false });
    expect(writes.reduce((sum, w) => sum + w.commands, 0)).toBe(n);
    expect(writes.length).toBeLessThanOrEqual(Math.ceil(n / COMMANDS_PER_WRITE));
  });

  it("a quiet turn's few commands leave together in its check phase", async () => {
    const c = await client();
    const connection = testConnection(c);
    const turn = { ended: false };
    const writes = watchWrites(c.stream, turn);
    const replies = ["a", "b", "c"].map((m) => connection.guard(() => c.echo(m)));
    expect(writes).toEqual([]); // held until the turn's end
    turn.ended = true;
    expect(await Promise.all(replies)).toEqual(["a", "b", "c"]);
    expect(writes).toEqual([{ commands: 3, afterTurn: true }]);
  });

  it("writes a turn's commands while an earlier turn's are still unanswered", async () => {
    const c = await client();
    const connection = testConnection(c);
    const admin = await client();
    // Redis holds every client's commands for 500 ms: nothing is answered.
    await admin.call("CLIENT", "PAUSE", "500", "ALL");
    const writes = watchWrites(c.stream);
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
    expect(writes.length).toBe(2);
    await Promise.all([first, second]);
    expect(settled).toEqual(["first", "second"]);
  });

  it("leaves a Cluster-style auto-pipelining client to ioredis", async () => {
    const c = new Redis(redis.server.url, { enableAutoPipelining: true });
    clients.push(c);
    await c.ping();
    const connection = testConnection(c);
    const writes = watchWrites(c.stream);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => connection.guard(() => c.get(`writes-per-turn:${i}`))),
    );
    // ioredis's own pipeline: still one write for the turn.
    expect(writes.length).toBe(1);
    expect(c.stream.writableCorked).toBe(0);
  });
});
