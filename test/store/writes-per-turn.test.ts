/**
 * How a turn's commands leave for one Redis (src/store/redis-connection.ts
 * `writesPerTurn`): in few writes, the first of them before the turn ends,
 * every reply in order. Observed on the real socket's writes, to a real
 * redis-server.
 */
import type { Socket } from "node:net";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { COMMANDS_PER_WRITE, writesPerTurn } from "../../src/store/redis-connection.js";
import { useRedis } from "../support/redis-server.js";

const redis = useRedis();

/** Records each write the socket makes: how many commands, and whether the sending turn had ended. */
function watchWrites(socket: Socket, turn: { ended: boolean }) {
  const writes: { commands: number; afterTurn: boolean }[] = [];
  const s = socket as Socket & {
    _write: (...a: unknown[]) => void;
    _writev: (chunks: unknown[], cb: unknown) => void;
  };
  const one = s._write.bind(s);
  const many = s._writev.bind(s);
  s._write = (...a: unknown[]) => {
    writes.push({ commands: 1, afterTurn: turn.ended });
    one(...a);
  };
  s._writev = (chunks: unknown[], cb: unknown) => {
    writes.push({ commands: chunks.length, afterTurn: turn.ended });
    many(chunks, cb);
  };
  return writes;
}

describe("writesPerTurn: a turn's commands to one Redis", () => {
  it(`a busy turn writes every ${COMMANDS_PER_WRITE} commands, the first before the turn ends, and every reply comes back in order`, async () => {
    const client = new Redis(redis.server.url, { enableAutoPipelining: false });
    try {
      await client.ping();
      writesPerTurn(client);
      const turn = { ended: false };
      const writes = watchWrites(client.stream as Socket, turn);
      const n = 3 * COMMANDS_PER_WRITE + 3;
      const replies = Array.from({ length: n }, (_, i) => client.echo(`c${i}`));
      // Every write so far was made inside this synchronous turn.
      const inTurn = writes.length;
      turn.ended = true;
      expect(await Promise.all(replies)).toEqual(Array.from({ length: n }, (_, i) => `c${i}`));
      expect(inTurn).toBeGreaterThanOrEqual(1);
      expect(writes[0]).toEqual({ commands: COMMANDS_PER_WRITE, afterTurn: false });
      expect(writes.reduce((sum, w) => sum + w.commands, 0)).toBe(n);
      // Batched: never one write a command.
      expect(writes.length).toBeLessThanOrEqual(Math.ceil(n / COMMANDS_PER_WRITE) + 1);
    } finally {
      client.disconnect();
    }
  });

  it("a quiet turn's few commands leave together in the check phase", async () => {
    const client = new Redis(redis.server.url, { enableAutoPipelining: false });
    try {
      await client.ping();
      writesPerTurn(client);
      const turn = { ended: false };
      const writes = watchWrites(client.stream as Socket, turn);
      const replies = [client.echo("a"), client.echo("b"), client.echo("c")];
      expect(writes).toEqual([]); // still held
      turn.ended = true;
      expect(await Promise.all(replies)).toEqual(["a", "b", "c"]);
      expect(writes).toEqual([{ commands: 3, afterTurn: true }]);
    } finally {
      client.disconnect();
    }
  });
});
