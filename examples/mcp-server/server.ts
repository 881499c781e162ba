/**
 * An MCP server protected by handoff: Streamable HTTP on `@modelcontextprotocol/sdk`,
 * tokens checked with `handoff/resource-server`, one tool `whoami`.
 *
 *   HANDOFF_ISSUER  the authorization server (default http://localhost:8080)
 *   MCP_PORT        where this server listens (default 3000; 0 picks a free port)
 *   MCP_RESOURCE    its resource URI, the tokens' `aud` (default http://localhost:$MCP_PORT/mcp)
 *   MCP_HOST        the address to bind (default 127.0.0.1)
 *
 * Serves POST /mcp and GET /.well-known/oauth-protected-resource/mcp (RFC 9728).
 * Prints `listening <port> <resource>` once ready.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { ResourceServer } from "handoff/resource-server";

const issuer = process.env.HANDOFF_ISSUER ?? "http://localhost:8080";
const host = process.env.MCP_HOST ?? "127.0.0.1";
const requestedPort = Number(process.env.MCP_PORT ?? 3000);
const MAX_BODY = 1024 * 1024;

/** A fresh MCP server per request (stateless Streamable HTTP). */
function mcpServer(): McpServer {
  const server = new McpServer({ name: "handoff-example", version: "1.0.0" });
  server.registerTool(
    "whoami",
    { description: "Who the access token says you are: sub, client_id and scopes." },
    async (extra) => {
      const auth = extra.authInfo;
      const who = {
        sub: auth?.extra?.sub,
        client_id: auth?.clientId,
        scopes: auth?.scopes ?? [],
      };
      return { content: [{ type: "text", text: JSON.stringify(who) }], structuredContent: who };
    },
  );
  return server;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function startServer(resource: string, port: number): Promise<http.Server> {
  const rs = new ResourceServer({
    issuer,
    resource,
    scopesSupported: ["read", "write"],
    resourceName: "handoff example MCP server",
  });
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (path === rs.metadataPath && (req.method === "GET" || req.method === "HEAD")) {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
        res.end(JSON.stringify(rs.metadata()));
        return;
      }
      if (path !== "/mcp") {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"not_found"}');
        return;
      }
      const result = await rs.authenticate(req.headers.authorization);
      if (!result.ok) {
        res.writeHead(result.status, {
          "www-authenticate": result.wwwAuthenticate,
          "content-type": "application/json",
        });
        res.end(
          JSON.stringify({
            error: result.error ?? "unauthorized",
            error_description: result.description,
          }),
        );
        return;
      }
      const t = result.token;
      const auth: AuthInfo = {
        token: t.token,
        clientId: t.clientId,
        scopes: [...t.scopes],
        expiresAt: t.expiresAt,
        resource: new URL(resource),
        extra: { sub: t.subject },
      };
      (req as http.IncomingMessage & { auth?: AuthInfo }).auth = auth;
      if (req.method !== "POST") {
        // Stateless: no server-to-client stream, no session to delete.
        res.writeHead(405, { allow: "POST" }).end();
        return;
      }
      const body = await readJson(req);
      const transport = new StreamableHTTPServerTransport({});
      const mcp = mcpServer();
      res.on("close", () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch {
      if (!res.headersSent) res.writeHead(400, { "content-type": "application/json" });
      res.end('{"jsonrpc":"2.0","error":{"code":-32700,"message":"bad request"},"id":null}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}

// With MCP_PORT=0 the resource URI needs the chosen port: listen first, then name it.
let server = await startServer(
  process.env.MCP_RESOURCE ?? `http://localhost:${requestedPort}/mcp`,
  requestedPort,
);
if (requestedPort === 0 && !process.env.MCP_RESOURCE) {
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  server = await startServer(`http://localhost:${port}/mcp`, port);
}
const port = (server.address() as AddressInfo).port;
const resource = process.env.MCP_RESOURCE ?? `http://localhost:${port}/mcp`;
process.stdout.write(`listening ${port} ${resource}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
