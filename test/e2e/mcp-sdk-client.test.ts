import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RESOURCE_LIMITS } from "../../src/domain/resource.js";
import {
  ALICE,
  launchChromium,
  screenshot,
  signInInBrowser,
  testUsers,
} from "../pages/page-fixtures.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { type McpExample, startMcpExample } from "../support/mcp-example.js";
import {
  codeGrantDocuments,
  registrationConfig,
  WIDE_REGISTRATION_LIMITS,
} from "../support/registration-fixtures.js";
import { generateTestCertificate } from "../support/test-ca.js";

/** A loopback redirect target (RFC 8252 §7.3) that hands over what the browser brings back. */
async function callbackServer() {
  let deliver: (u: URL) => void = () => {};
  let next = new Promise<URL>((r) => {
    deliver = r;
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    res.writeHead(200, { "content-type": "text/plain" }).end("You can close this window.");
    deliver(url);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUrl: `http://127.0.0.1:${port}/callback`,
    /** The next request the browser makes to the callback. */
    async received(): Promise<URL> {
      const u = await next;
      next = new Promise<URL>((r) => {
        deliver = r;
      });
      return u;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** An OAuthClientProvider as an MCP client implements it; the browser step is Chromium's. */
class TestProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  readonly sentState = `state-${Math.random().toString(36).slice(2)}`;
  authorizationUrl: URL | undefined;

  constructor(
    readonly redirectUrl: string,
    preRegistered: string | undefined,
    private readonly onRedirect: (u: URL) => Promise<void>,
    /** MCP 2025-11-25: an https URL used as client_id, naming the client's metadata document. */
    metadataUrl?: string,
  ) {
    if (preRegistered) this.info = { client_id: preRegistered };
    if (metadataUrl) this.clientMetadataUrl = metadataUrl;
  }
  clientMetadataUrl?: string;
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "SDK Test Client",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      scope: "read",
    };
  }
  state(): string {
    return this.sentState;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
    await this.onRedirect(url);
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

let server: TestServer;
let example: McpExample;
let browser: Browser;
const cert = generateTestCertificate();
let documents: https.Server;
let documentUrl = "";

beforeAll(async () => {
  // The client's metadata document (its client_id is its own URL); loopback redirect, any port.
  documents = https.createServer({ cert: cert.cert, key: cert.key }, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=60" });
    res.end(
      JSON.stringify({
        client_id: documentUrl,
        client_name: "SDK Document Client",
        redirect_uris: ["http://127.0.0.1/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      }),
    );
  });
  await new Promise<void>((r) => documents.listen(0, "127.0.0.1", () => r()));
  documentUrl = `https://localhost:${(documents.address() as AddressInfo).port}/client.json`;
  server = await startTestServer({
    // Loopback and the test CA are allowed for this test only (the setting is dev/test-only).
    metadataDocuments: codeGrantDocuments(cert.cert),
    authenticator: await testUsers(),
    // The example serves http://localhost:<port>/mcp: an http resource on loopback.
    resourceLimits: { ...DEFAULT_RESOURCE_LIMITS, httpOnLoopback: true },
    registration: registrationConfig(),
    attemptLimits: WIDE_REGISTRATION_LIMITS,
  });
  example = await startMcpExample(server.issuer);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  example?.child.kill("SIGTERM");
  await server?.close();
  documents?.closeAllConnections();
  await new Promise<void>((r) => documents?.close(() => r()));
});

/** Runs the whole sign-in as the SDK does it; returns what whoami answered and what was fetched. */
async function signInAndCallWhoami(
  preRegistered: string | undefined,
  shot: string,
  clientMetadataUrl?: string,
) {
  const callback = await callbackServer();
  const context = await browser.newContext();
  const page = await context.newPage();
  const fetched: string[] = [];
  const fetchFn = async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    fetched.push(`${init?.method ?? "GET"} ${new URL(url).pathname}`);
    return fetch(input, init);
  };
  let browserDone: Promise<URL> | undefined;
  let consentText = "";
  const provider = new TestProvider(
    callback.redirectUrl,
    preRegistered,
    async (url) => {
      browserDone = (async () => {
        const arrived = callback.received();
        await page.goto(url.href);
        await expect.poll(() => page.url()).toContain("/device/sign-in");
        await signInInBrowser(page, ALICE);
        await page.getByRole("button", { name: "Approve" }).waitFor();
        await screenshot(page, shot);
        consentText = (await page.locator("main").textContent()) ?? "";
        await page.getByRole("button", { name: "Approve" }).click();
        return arrived;
      })();
    },
    clientMetadataUrl,
  );
  try {
    const mcpUrl = new URL(example.resource);
    const transport = new StreamableHTTPClientTransport(mcpUrl, {
      authProvider: provider,
      fetch: fetchFn,
    });
    const client = new Client({ name: "sdk-test", version: "1.0.0" });
    // No token yet: the 401 starts discovery and sends the browser to handoff.
    await expect(client.connect(transport)).rejects.toThrow(/Unauthorized/i);
    const back = await (browserDone as Promise<URL>);
    const code = back.searchParams.get("code") ?? "";
    await transport.finishAuth(code);
    const authorized = new Client({ name: "sdk-test", version: "1.0.0" });
    await authorized.connect(
      new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchFn }),
    );
    const result = await authorized.callTool({ name: "whoami", arguments: {} });
    await authorized.close();
    return { result, back, provider, fetched, consentText };
  } finally {
    await context.close();
    await callback.close();
  }
}

describe("MCP SDK client → example MCP server → handoff (authorization code + PKCE in Chromium)", () => {
  it("a pre-registered public client: discovery from the 401, sign-in, consent, Approve, whoami answers alice", async () => {
    const { result, back, provider, fetched } = await signInAndCallWhoami(
      "mcp-app",
      "mcp-1-consent",
    );
    expect(result.structuredContent).toMatchObject({
      sub: "alice",
      client_id: "mcp-app",
      // The SDK asks for the scopes the RFC 9728 document lists.
      scopes: ["read", "write"],
    });
    // RFC 6749 §4.1.2, RFC 9207: state unchanged, iss present.
    expect(back.searchParams.get("state")).toBe(provider.sentState);
    expect(back.searchParams.get("iss")).toBe(server.issuer);
    // The request the SDK built: S256 PKCE and the MCP server as resource (RFC 8707).
    const asked = provider.authorizationUrl as URL;
    expect(asked.searchParams.get("code_challenge_method")).toBe("S256");
    expect(asked.searchParams.get("resource")).toBe(example.resource);
    // Discovery went 401 → RFC 9728 → RFC 8414 → token endpoint → the MCP call.
    const order = [
      "POST /mcp",
      "GET /.well-known/oauth-protected-resource/mcp",
      "GET /.well-known/oauth-authorization-server",
      "POST /oauth/token",
    ].map((step) => fetched.indexOf(step));
    expect(
      order.every((i) => i >= 0),
      fetched.join("\n"),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The token's audience is the MCP server, and introspection agrees it is live.
    const introspected = (await (
      await server.post(
        "/oauth/introspect",
        { token: provider.saved?.access_token ?? "" },
        { authorization: `Bearer ${SERVICE_TOKEN}` },
      )
    ).json()) as { active: boolean; aud: unknown };
    expect(introspected.active).toBe(true);
    expect([introspected.aud].flat()).toContain(example.resource);
  });

  it("a client that registers itself (RFC 7591 DCR, as MCP clients do): the same flow, whoami answers alice", async () => {
    const { result, provider, fetched } = await signInAndCallWhoami(undefined, "mcp-2-dcr-consent");
    expect(fetched).toContain("POST /oauth/register");
    const clientId = provider.info?.client_id ?? "";
    expect(clientId).not.toBe("");
    expect(result.structuredContent).toMatchObject({ sub: "alice", client_id: clientId });
  });
});

describe("MCP SDK client with a Client ID Metadata Document", () => {
  it("an https client_id (MCP 2025-11-25): handoff fetches the document, the consent shows its host, whoami answers alice", async () => {
    const { result, provider, fetched, consentText } = await signInAndCallWhoami(
      undefined,
      "mcp-3-cimd-consent",
      documentUrl,
    );
    expect(consentText).toContain("SDK Document Client");
    expect(consentText).toContain(new URL(documentUrl).host);
    expect(fetched).not.toContain("POST /oauth/register");
    expect(provider.authorizationUrl?.searchParams.get("client_id")).toBe(documentUrl);
    expect(result.structuredContent).toMatchObject({ sub: "alice", client_id: documentUrl });
  });
});

describe("the example MCP server refuses what it must (RFC 6750 §3, RFC 9728 §5.1)", () => {
  it("without a token: 401 with resource_metadata pointing at its RFC 9728 document", async () => {
    const res = await fetch(example.resource, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? "";
    expect(new URL(metadataUrl).pathname).toBe("/.well-known/oauth-protected-resource/mcp");
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      resource: example.resource,
      authorization_servers: [server.issuer],
    });
  });

  it("a token for another audience, or garbage: 401 invalid_token", async () => {
    const { device_code, user_code } = (await (
      await server.post("/oauth/device/authorize", {
        client_id: "public-cli",
        scope: "read",
        resource: "https://other.example.com/",
      })
    ).json()) as { device_code: string; user_code: string };
    await server.flow.decide({ userCode: user_code, subject: "alice", approve: true });
    const { access_token } = (await (
      await server.post("/oauth/token", {
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        client_id: "public-cli",
        device_code,
      })
    ).json()) as { access_token: string };
    for (const token of [access_token, "not-a-jwt"]) {
      const res = await fetch(example.resource, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: "{}",
      });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
    }
  });
});
