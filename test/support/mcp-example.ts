/** examples/mcp-server as a child process, started the way `npm run mcp-example` starts it. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface McpExample {
  readonly child: ChildProcess;
  /** Its resource URI, http://localhost:<port>/mcp (RFC 9728 `resource`). */
  readonly resource: string;
}

/** Starts the example MCP server against `issuer` on a port it picks; resolves once it listens. */
export async function startMcpExample(issuer: string): Promise<McpExample> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/mcp-server/server.ts"], {
    cwd: root,
    env: { ...process.env, HANDOFF_ISSUER: issuer, MCP_PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr?.on("data", (d) => {
    err += String(d);
  });
  const resource = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d) => {
      out += String(d);
      const m = /listening \d+ (\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`example exited ${code}: ${err}`)));
  });
  return { child, resource };
}
