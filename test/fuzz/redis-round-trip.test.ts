/**
 * Hostile but valid values through the Redis store: what a device
 * and a person send is packed into one Redis record (fields joined by U+001F)
 * and must come back as it went in, or sanitised as documented: user agents
 * with obs-text, resources with astral symbols (normalised), subjects with
 * separators and emoji. A real redis-server, never a mock.
 */
import { createClient, type Transport } from "@connectrpc/connect";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";
import { DEFAULT_RESOURCE_LIMITS, parseResources } from "../../src/domain/resource.js";
import {
  DEVICE_GRANT,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { type RedisProcess, startRedis } from "../support/redis-server.js";
import { runs } from "./support/fuzz-runs.js";
import { formEncode, headerValue } from "./support/hostile-values.js";
import { answered, expectDeviceAuthorization } from "./support/oauth-answer.js";
import { send } from "./support/raw-http.js";
import { transports } from "./support/rpc-outcome.js";

let redis: RedisProcess;
let server: TestServer;
let binary: Transport;
beforeAll(async () => {
  redis = await startRedis();
  server = await startTestServer({ redis: { url: redis.url } });
  binary = transports(server.issuer)["Connect binary over HTTP/1.1"];
});
afterAll(async () => {
  expect(server.logs()).not.toMatch(/"level":50/);
  await server.close();
  await redis.stop();
});

const trusted = { headers: { authorization: `Bearer ${SERVICE_TOKEN}` } };
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Path segments a resource may carry as sent: no controls, format characters
 * (bidi marks), spaces or `#` (src/domain/resource.ts); astral symbols and
 * the like are percent-encoded by normalisation.
 */
const odd = fc
  .string({ unit: "binary", minLength: 1, maxLength: 30 })
  .map((s) => s.replace(LONE_SURROGATE, "x"))
  .filter((s) => !/[\p{Cc}\p{Cf}\s#]/u.test(s));

describe("the Redis record round trip", () => {
  it("keeps resources in their normal form and the user agent as sent (RFC 8707 §2, RFC 8628 §5.4)", async () => {
    await fc.assert(
      fc.asyncProperty(
        headerValue(700),
        fc.uniqueArray(
          odd.map((p) => `https://mcp.example.com/${p}`),
          { maxLength: 3 },
        ),
        async (userAgent, resources) => {
          const body = [
            "client_id=public-cli",
            ...resources.map((r) => `resource=${formEncode(r)}`),
          ].join("&");
          const r = answered(
            await send(server.port, {
              method: "POST",
              path: "/oauth/device/authorize",
              headers: [
                ["Content-Type", "application/x-www-form-urlencoded"],
                ["User-Agent", userAgent],
              ],
              body: Buffer.from(body, "latin1"),
            }),
          );
          expectDeviceAuthorization(r);
          const { user_code } = JSON.parse(r.body.toString("utf8")) as { user_code: string };
          const view = await createClient(DeviceAuthService, binary).getDeviceAuthorization(
            { userCode: user_code },
            trusted,
          );
          expect(view.resources).toEqual(parseResources(resources, DEFAULT_RESOURCE_LIMITS));
          // Node trims the header's surrounding whitespace (latin1 bytes are characters
          // U+0080–U+00FF); the flow keeps 512 characters, C0/C1 controls as U+FFFD.
          expect(view.userAgent).toBe(
            userAgent
              .replace(/^[ \t]+|[ \t]+$/g, "")
              .slice(0, 512)
              .replace(/\p{Cc}/gu, "\ufffd"),
          );
        },
      ),
      runs(40),
    );
  });

  it("gives the token the subject the person was approved as", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ unit: "binary", minLength: 1, maxLength: 120 })
          .filter((s) => !/\p{Cc}/u.test(s)),
        async (subject) => {
          const a = await server.flow.authorize({
            credentials: { clientId: "public-cli", method: "none" },
            resources: [],
            ipAddress: "127.0.0.1",
            userAgent: "fuzz",
          });
          await createClient(DeviceAuthService, binary).approve(
            { userCode: a.userCode, subject, decision: Decision.APPROVE },
            trusted,
          );
          const res = await server.post("/oauth/token", {
            grant_type: DEVICE_GRANT,
            device_code: a.deviceCode,
            client_id: "public-cli",
          });
          expect(res.status).toBe(200);
          const { access_token } = (await res.json()) as { access_token: string };
          const claims = JSON.parse(
            Buffer.from(access_token.split(".")[1] ?? "", "base64url").toString("utf8"),
          ) as { sub: string };
          // The binary encoder has no UTF-8 for a lone surrogate: it sends U+FFFD.
          expect(claims.sub).toBe(subject.replace(LONE_SURROGATE, "\ufffd"));
        },
      ),
      runs(40),
    );
  });
});
