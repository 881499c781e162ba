/**
 * The yardstick (README "Benchmarks"): a bare node:http
 * server doing only the minimal RFC-exact Redis work, one EVALSHA per request.
 * handoff should reach at least 80 % of its throughput.
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { Redis } from "ioredis";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
redis.defineCommand("create", {
  numberOfKeys: 2,
  lua: "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[1]) redis.call('HSET', KEYS[2], 'c', ARGV[3], 'st', 'P', 'p', 0, 'i', 5) redis.call('PEXPIREAT', KEYS[2], ARGV[1]) return 1",
});
redis.defineCommand("poll", {
  numberOfKeys: 1,
  lua: "local f = redis.call('HMGET', KEYS[1], 'c', 'st', 'p') if not f[1] then return 0 end redis.call('HSET', KEYS[1], 'p', ARGV[1]) return 1",
});
const cmd = redis as unknown as {
  create(...a: Array<string | number>): Promise<number>;
  poll(...a: Array<string | number>): Promise<number>;
};
const json = { "content-type": "application/json", "cache-control": "no-store" };

http
  .createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", async () => {
      const form = new URLSearchParams(body);
      if (req.url === "/oauth/device/authorize") {
        const user = randomBytes(5).toString("hex").toUpperCase().slice(0, 8);
        const tag = user.slice(0, 2);
        // The device code carries the tag, so the poll finds the record's slot.
        const device = `${tag}.${randomBytes(32).toString("base64url")}`;
        const h = createHash("sha256").update(device).digest("base64url");
        await cmd.create(
          `u:{${tag}}:${user}`,
          `d:{${tag}}:${h}`,
          Date.now() + 900_000,
          h,
          form.get("client_id") ?? "",
        );
        res.writeHead(200, json).end(
          JSON.stringify({
            device_code: device,
            user_code: user,
            verification_uri: "http://localhost/device",
            verification_uri_complete: `http://localhost/device?user_code=${user}`,
            expires_in: 900,
            interval: 5,
          }),
        );
      } else {
        // Find and update the real record: the least an RFC-exact poll does.
        const code = form.get("device_code") ?? "";
        const h = createHash("sha256").update(code).digest("base64url");
        await cmd.poll(`d:{${code.slice(0, 2)}}:${h}`, Date.now());
        res
          .writeHead(400, json)
          .end(JSON.stringify({ error: "authorization_pending", interval: 5 }));
      }
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1", () => process.stdout.write("ready\n"));
