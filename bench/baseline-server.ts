/**
 * The yardstick (README "Benchmarks"): a bare node:http
 * server doing only the minimal RFC-exact Redis work, one EVALSHA per request.
 * handoff should reach at least 80 % of its throughput.
 *
 * On the same port, a bare node:http2 server answers gRPC PollToken the same
 * way: the generated decoder, the same EVALSHA, and the cheapest answer
 * gRPC allows, Trailers-Only with a status detail encoded once. It is the
 * floor of a unary gRPC call in Node's http2 module, for the gRPC row.
 * Connections are split by handoff's own sniffer (per connection, not per
 * request: src/server/protocol-sniffer.ts).
 */
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import { create, fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { Redis } from "ioredis";
import {
  ErrorCode,
  OAuthErrorSchema,
  PollTokenRequestSchema,
} from "../gen/handoff/v1/device_auth_pb.js";
import { createProtocolSniffer } from "../src/server/protocol-sniffer.js";

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

const h1 = http.createServer((req, res) => {
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
      res.writeHead(400, json).end(JSON.stringify({ error: "authorization_pending", interval: 5 }));
    }
  });
});

// gRPC: FAILED_PRECONDITION (9) with the OAuth error as its detail, as handoff answers a pending poll.
const pending: Record<string, string> = {};
setTrailerStatus(
  new Headers(),
  new ConnectError("authorization_pending", Code.FailedPrecondition, undefined, [
    {
      desc: OAuthErrorSchema,
      value: create(OAuthErrorSchema, {
        code: ErrorCode.AUTHORIZATION_PENDING,
        error: "authorization_pending",
        interval: 5,
      }),
    },
  ]),
).forEach((value, key) => {
  pending[key] = value;
});
const h2 = http2.createServer();
h2.on("stream", (stream, headers) => {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", async () => {
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const request = fromBinary(PollTokenRequestSchema, body.subarray(5));
    const code = request.deviceCode;
    const h = createHash("sha256").update(code).digest("base64url");
    await cmd.poll(`d:{${code.slice(0, 2)}}:${h}`, Date.now());
    if (headers[":path"] === undefined || stream.destroyed) return;
    stream.respond(
      { ":status": 200, "content-type": "application/grpc+proto", ...pending },
      { endStream: true },
    );
  });
});

createProtocolSniffer({ h1, h2 }, { firstBytesTimeoutMs: 10_000 }).server.listen(
  Number(process.env.PORT),
  "127.0.0.1",
  () => process.stdout.write("ready\n"),
);
