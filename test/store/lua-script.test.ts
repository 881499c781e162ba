/**
 * The stores' scripts by EVALSHA, with EVAL after NOSCRIPT (src/store/lua-script.ts),
 * against a real redis-server: counted with INFO commandstats.
 */
import { Redis } from "ioredis";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { LuaScript, scriptCommands } from "../../src/store/lua-script.js";
import { RedisAttemptCounter } from "../../src/store/redis-attempt-counter.js";
import { RedisAuthorizationCodeStore } from "../../src/store/redis-authorization-code-store.js";
import { RedisClientStore } from "../../src/store/redis-client-store.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import { RedisTokenStore } from "../../src/store/redis-token-store.js";
import { testConnection, useRedis } from "../support/redis-server.js";

const redis = useRedis();

async function calls(client: Redis): Promise<{ evalsha: number; eval: number }> {
  const stats = String(await client.info("commandstats"));
  const count = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
  return { evalsha: count("evalsha"), eval: count("eval") };
}

describe("LuaScript", () => {
  beforeEach(async () => {
    await redis.client.script("FLUSH");
    await redis.client.config("RESETSTAT");
  });

  it("loads an unknown script with EVAL after NOSCRIPT, then runs it by EVALSHA alone", async () => {
    const script = new LuaScript("return {KEYS[1], ARGV[1]}");
    expect(await script.run(redis.client, 1, ["k", "v"])).toEqual(["k", "v"]);
    expect(await calls(redis.client)).toEqual({ evalsha: 1, eval: 1 });
    expect(await script.run(redis.client, 1, ["k2", 7])).toEqual(["k2", "7"]);
    expect(await calls(redis.client)).toEqual({ evalsha: 2, eval: 1 });
  });

  it("recovers when the server forgets its scripts (SCRIPT FLUSH, as after a restart)", async () => {
    const script = new LuaScript("return redis.call('INCR', KEYS[1])");
    await redis.client.del("lua-script:n");
    expect(await script.run(redis.client, 1, ["lua-script:n"])).toBe(1);
    await redis.client.script("FLUSH");
    expect(await script.run(redis.client, 1, ["lua-script:n"])).toBe(2);
    // The NOSCRIPT run did nothing: two runs, two increments.
    expect(await redis.client.get("lua-script:n")).toBe("2");
  });

  it("passes any other error on as it came, without sending the script again", async () => {
    const script = new LuaScript("return redis.error_reply('BADTHING it failed')");
    await expect(script.run(redis.client, 0, [])).rejects.toThrow(/^BADTHING it failed/);
    const before = await calls(redis.client);
    await expect(script.run(redis.client, 0, [])).rejects.toThrow(/^BADTHING it failed/);
    expect(await calls(redis.client)).toEqual({ evalsha: before.evalsha + 1, eval: before.eval });
  });

  it("scriptCommands binds each definition's key count: keys first, then arguments", async () => {
    const cmd = scriptCommands(redis.client, {
      two: { numberOfKeys: 2, lua: "return {#KEYS, #ARGV}" },
    });
    expect(await cmd.two("a", "b", "c")).toEqual([2, 1]);
  });

  it("builds its command without Array.prototype.flat on a client that sends each command as it comes; arguments arrive as given", async () => {
    const script = new LuaScript("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3]}");
    await script.run(redis.client, 0, []); // loaded
    const flat = vi.spyOn(Array.prototype, "flat");
    try {
      const reply = await script.run(redis.client, 2, ["k1", "k2", 0, -1.5, "é ✓"]);
      expect(reply).toEqual(["k1", "k2", "0", "-1.5", "é ✓"]);
      // ioredis's constructor still flattens the empty list it is given; never the arguments.
      expect(flat.mock.contexts.filter((list) => (list as unknown[]).length > 0)).toEqual([]);
    } finally {
      flat.mockRestore();
    }
  });

  it("goes through ioredis's command method where ioredis auto-pipelines, with the same answers", async () => {
    const piped = new Redis(redis.server.url, { enableAutoPipelining: true });
    try {
      const script = new LuaScript("return {KEYS[1], ARGV[1]}");
      const evalsha = vi.spyOn(piped, "evalsha");
      expect(await script.run(piped, 1, ["k", 3])).toEqual(["k", "3"]);
      expect(evalsha).toHaveBeenCalledTimes(1);
    } finally {
      piped.disconnect();
    }
  });
});

describe("the Redis stores", () => {
  it("define no ioredis command: auto-pipelining would copy each into every pipeline it builds", () => {
    const connection = testConnection(redis.client);
    new RedisDeviceStore(connection);
    new RedisTokenStore(connection);
    new RedisAuthorizationCodeStore(connection);
    new RedisClientStore(connection, { space: "registered" });
    new RedisAttemptCounter(connection);
    expect(Object.keys(redis.client.scriptsSet)).toEqual([]);
  });
});
