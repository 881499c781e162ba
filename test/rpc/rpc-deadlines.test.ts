/**
 * A client deadline longer than Node's timers hold (gRPC allows 99999999H) is
 * cut to about 24.8 days (src/server/rpc-deadlines.ts): the call is answered
 * as if it had no deadline, not failed after the 1 ms Node would arm instead.
 * The suite's warning guard fails this file on any TimeoutOverflowWarning.
 */
import type { Interceptor } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { deviceAuthClients } from "../support/rpc-clients.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

const header =
  (name: string, value: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set(name, value);
    return next(req);
  };

const cases = [
  ["Connect over HTTP/1.1", "connect-timeout-ms", "9999999999"],
  ["Connect over h2c", "connect-timeout-ms", "9999999999"],
  ["gRPC over h2c", "grpc-timeout", "99999999H"],
  ["gRPC-Web over HTTP/1.1", "grpc-timeout", "99999999H"],
] as const;

describe("RPC deadlines past Node's timer range", () => {
  it.each(cases)("%s with %s: %s is answered, not DEADLINE_EXCEEDED", async (name, h, value) => {
    const client = deviceAuthClients(server.issuer, [header(h, value)])[name];
    if (client === undefined) throw new Error(`no client for ${name}`);
    const auth = await client.authorize({ clientId: "public-cli", scopes: ["read"] });
    expect(auth.userCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  });
});
