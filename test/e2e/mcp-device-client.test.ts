import { readFileSync, writeFileSync } from "node:fs";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/handoff/v1/device_auth_pb.js";
import { deviceFlowAuthProvider } from "../../src/client/index.js";
import { DEFAULT_RESOURCE_LIMITS } from "../../src/domain/resource.js";
import { cacheFiles, cleanEnv, runPiped } from "../cli/support/cli-process.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type McpExample, startMcpExample } from "../support/mcp-example.js";
import { bearer, type DeviceAuthClient, deviceAuthClients } from "../support/rpc-clients.js";

let server: TestServer;
let example: McpExample;
let rpc: DeviceAuthClient;

beforeAll(async () => {
  // The example serves http://localhost:<port>/mcp: an http resource on loopback.
  server = await startTestServer({
    resourceLimits: { ...DEFAULT_RESOURCE_LIMITS, httpOnLoopback: true },
  });
  example = await startMcpExample(server.issuer);
  rpc = deviceAuthClients(server.issuer, [bearer(SERVICE_TOKEN)])[
    "Connect over HTTP/1.1"
  ] as DeviceAuthClient;
}, 60_000);
afterAll(async () => {
  example?.child.kill("SIGTERM");
  await server?.close();
});

/** Runs the example client; approves the code it prints, if it prints one. */
async function runExample(env: Record<string, string>) {
  const run = runPiped([], env, [
    process.execPath,
    "--import",
    "tsx",
    "examples/mcp-device-client/client.ts",
  ]);
  const prompted = run
    .waitFor(/enter (\S+)/, 45_000)
    .then(async ([, userCode]) => {
      await rpc.approve({
        userCode: userCode as string,
        subject: "alice",
        decision: Decision.APPROVE,
      });
      return true;
    })
    .catch(() => false);
  const code = await run.exited;
  return {
    code,
    stdout: run.stdout(),
    stderr: run.stderr(),
    prompted: await Promise.race([prompted, false]),
  };
}

describe("MCP SDK client with handoff/client's device-flow provider", () => {
  it("the provider is an OAuthClientProvider (checked against the SDK's own type)", () => {
    const provider: OAuthClientProvider = deviceFlowAuthProvider({
      serverUrl: "http://localhost/mcp",
      clientId: "public-cli",
      prompt: () => {},
    });
    expect(provider.redirectUrl).toBeUndefined();
    expect(provider.clientInformation()).toEqual({ client_id: "public-cli" });
  });

  it("first run: the device flow, approved through the RPC, then whoami answers alice; second run: the cached token, no prompt", async () => {
    const env = { ...cleanEnv(), MCP_URL: example.resource, HANDOFF_CLIENT_ID: "public-cli" };
    const first = await runExample(env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`open ${server.issuer}/device`);
    expect(JSON.parse(first.stdout)).toMatchObject({ sub: "alice", client_id: "public-cli" });
    const [file] = cacheFiles(env);
    expect(file).toBeDefined();

    const second = await runExample(env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain("enter");
    expect(JSON.parse(second.stdout)).toMatchObject({ sub: "alice" });
  }, 120_000);

  it("handoff login --mcp fills the same cache: the example then runs without a prompt", async () => {
    const env = { ...cleanEnv(), MCP_URL: example.resource, HANDOFF_CLIENT_ID: "public-cli" };
    const login = runPiped(
      ["login", "--mcp", example.resource, "--client-id", "public-cli", "--json"],
      env,
    );
    const [, userCode] = await login.waitFor(/"user_code":"([^"]+)"/);
    await rpc.approve({
      userCode: userCode as string,
      subject: "alice",
      decision: Decision.APPROVE,
    });
    expect(await login.exited, login.stderr()).toBe(0);
    const run = await runExample(env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("enter");
    expect(JSON.parse(run.stdout)).toMatchObject({ sub: "alice", client_id: "public-cli" });
  }, 120_000);

  it("a token the MCP server refuses (401): the SDK's auth() asks the provider, which signs in again; the cache holds the new pair", async () => {
    const env = { ...cleanEnv(), MCP_URL: example.resource, HANDOFF_CLIENT_ID: "public-cli" };
    expect((await runExample(env)).code).toBe(0);
    const [file] = cacheFiles(env) as [string];
    const cached = JSON.parse(readFileSync(file, "utf8"));
    // Still fresh by its expiry, but not a token the server signed.
    writeFileSync(file, JSON.stringify({ ...cached, accessToken: "not-a-jwt" }), { mode: 0o600 });
    const again = await runExample(env);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("enter");
    expect(JSON.parse(again.stdout)).toMatchObject({ sub: "alice" });
    const now = JSON.parse(readFileSync(file, "utf8"));
    expect(now.accessToken).not.toBe("not-a-jwt");
    expect(now.refreshToken).not.toBe(cached.refreshToken);
  }, 120_000);
});
