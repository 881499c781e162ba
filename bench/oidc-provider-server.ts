/**
 * node-oidc-provider 9 as the peer a user would pick: device flow on, the
 * same demo-cli public client, Redis through bench/oidc-redis-adapter.ts,
 * the same endpoint paths as handoff so one load drives both. No request log
 * (it has none by default).
 */
import { Redis } from "ioredis";
// @ts-expect-error oidc-provider ships no types (@types/oidc-provider is not installed for the bench alone)
import Provider from "oidc-provider";
import { redisAdapter } from "./oidc-redis-adapter.js";

const port = Number(process.env.PORT);
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableAutoPipelining: true,
});
const provider = new Provider(`http://127.0.0.1:${port}`, {
  adapter: redisAdapter(redis),
  clients: [
    {
      client_id: "demo-cli",
      grant_types: ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "none",
    },
  ],
  features: { devInteractions: { enabled: false }, deviceFlow: { enabled: true } },
  routes: { device_authorization: "/oauth/device/authorize", token: "/oauth/token" },
  ttl: { DeviceCode: 900 },
  cookies: { keys: ["bench-only-cookie-key-0123456789abcdef"] },
});
provider.listen(port, () => process.stdout.write("ready\n"));
