/**
 * An MCP CLI that signs in headlessly: the MCP SDK's own client and
 * transport, with handoff/client's device-flow provider as its authProvider.
 * The first run shows a code to approve on any device; later runs use the
 * cached token (shared with `handoff login`), refreshed when it nears expiry.
 *
 *   MCP_URL            the MCP server (default http://localhost:3000/mcp, `npm run mcp-example`)
 *   HANDOFF_CLIENT_ID  a public client with the device grant (default demo-cli, as start-dev seeds it)
 *
 * Prints whoami's answer as one JSON line on stdout; the sign-in prompt goes to stderr.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { deviceFlowAuthProvider } from "handoff/client";

const url = new URL(process.env.MCP_URL ?? "http://localhost:3000/mcp");
const authProvider = deviceFlowAuthProvider({
  serverUrl: url,
  clientId: process.env.HANDOFF_CLIENT_ID ?? "demo-cli",
  prompt: (p) => console.error(`To sign in, open ${p.verificationUri} and enter ${p.userCode}`),
});

const client = new Client({ name: "handoff-device-example", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(url, { authProvider }));
const result = await client.callTool({ name: "whoami", arguments: {} });
console.log(JSON.stringify(result.structuredContent));
await client.close();
