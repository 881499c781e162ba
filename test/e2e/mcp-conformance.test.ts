/**
 * The MCP project's own conformance suite (`@modelcontextprotocol/conformance`,
 * its `authorization` command) against handoff: the RFC 8414 metadata
 * scenario, and the interactive authorization-code scenario with the person's
 * part (sign in, consent, Approve) done in headless Chromium. The suite runs
 * as the child process its README describes; on Node 20 it needs
 * test/support/conformance-node20/register.mjs (it imports `fs.globSync`,
 * which Node 22 added, though these scenarios never call it).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALICE,
  launchChromium,
  screenshot,
  signInInBrowser,
  testUsers,
} from "../pages/page-fixtures.js";
import { freePort } from "../support/free-port.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";
import { codeGrantDocuments, registrationConfig } from "../support/registration-fixtures.js";
import { CODE_CLIENT } from "../support/test-clients.js";

const require = createRequire(import.meta.url);
const SUITE = join(
  require.resolve("@modelcontextprotocol/conformance/package.json"),
  "..",
  "dist/index.js",
);
const NODE20_SHIM = new URL("../support/conformance-node20/register.mjs", import.meta.url).href;
const RESOURCE = "https://mcp.example.com/mcp";

interface SuiteRun {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first line of output that matches. */
  readonly line: (pattern: RegExp) => Promise<string>;
}

function runSuite(args: string[]): SuiteRun {
  const child = spawn(
    process.execPath,
    ["--import", NODE20_SHIM, SUITE, "authorization", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    },
  );
  let text = "";
  const waiters: Array<{ pattern: RegExp; resolve: (l: string) => void }> = [];
  const onData = (d: Buffer) => {
    text += String(d);
    for (const w of [...waiters]) {
      const hit = text.split("\n").find((l) => w.pattern.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return {
    child,
    output: () => text,
    exited,
    line: (pattern) =>
      new Promise<string>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        onData(Buffer.alloc(0));
        exited.then(() => reject(new Error(`suite exited before ${pattern}:\n${text}`)));
      }),
  };
}

/** The suite's closing tally of one scenario: "Passed: 2/2, 0 failed, 0 warnings". */
function tally(output: string) {
  const m = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(output);
  if (!m) throw new Error(`no tally in suite output:\n${output}`);
  return {
    passed: Number(m[1]),
    total: Number(m[2]),
    failed: Number(m[3]),
    warnings: Number(m[4]),
  };
}

/** The closing line of a run of several scenarios: "Total: 2 passed, 0 failed". */
function total(output: string) {
  const m = /Total: (\d+) passed, (\d+) failed/.exec(output);
  if (!m) throw new Error(`no total in suite output:\n${output}`);
  return { passed: Number(m[1]), failed: Number(m[2]) };
}

/** Every check the suite saved under --output-dir, as "status id". */
function savedChecks(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".json")) {
        const parsed: unknown = JSON.parse(readFileSync(p, "utf8"));
        for (const c of [parsed].flat(2) as Array<{ id?: string; status?: string }>) {
          if (c?.id && c.status) out.push(`${c.status} ${c.id}`);
        }
      }
    }
  };
  walk(dir);
  return out.sort();
}

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  // Configured as an MCP deployment would be: open registration and Client ID
  // Metadata Documents on (the metadata scenario checks that they are advertised).
  server = await startTestServer({
    authenticator: await testUsers(),
    registration: registrationConfig(),
    metadataDocuments: codeGrantDocuments(),
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("MCP conformance suite, authorization server scenarios", () => {
  it("authorization-server-metadata-endpoint: every check passes", async () => {
    const run = runSuite([
      "--url",
      server.issuer,
      "--scenario",
      "authorization-server-metadata-endpoint",
    ]);
    expect(await run.exited, run.output()).toBe(0);
    const t = tally(run.output());
    console.log(`conformance metadata: ${t.passed}/${t.total} passed, ${t.warnings} warnings`);
    expect(t.failed, run.output()).toBe(0);
    expect(t.passed).toBe(t.total);
    expect(t.warnings, run.output()).toBe(0);
    // The metadata document itself, and client_id_metadata_document_supported.
    expect(t.total).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it("authorization-code-grant (with RFC 8707 resource), driven through Chromium: every check passes", async () => {
    const port = await freePort();
    const outDir = mkdtempSync(join(tmpdir(), "handoff-conformance-"));
    // Without --scenario the suite runs metadata first, which the code scenario reads.
    const run = runSuite([
      "--url",
      server.issuer,
      "--client-id",
      CODE_CLIENT.id,
      "--resource",
      RESOURCE,
      "--port",
      String(port),
      "--output-dir",
      outDir,
    ]);
    try {
      const authorizeLine = await run.line(new RegExp(`^${server.issuer}/oauth/authorize\\?`));
      const asked = new URL(authorizeLine.trim());
      // The suite asks as the MCP spec says clients must: S256 PKCE, a loopback redirect.
      expect(asked.searchParams.get("code_challenge_method")).toBe("S256");
      expect(asked.searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/callback`);

      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(asked.href);
      await signInInBrowser(page, ALICE);
      await page.getByRole("button", { name: "Approve" }).waitFor();
      await screenshot(page, "mcp-conformance-consent");
      await page.getByRole("button", { name: "Approve" }).click();
      await page.waitForURL(new RegExp(`^http://127\\.0\\.0\\.1:${port}/callback\\?`));
      await context.close();

      expect(await run.exited, run.output()).toBe(0);
      const t = total(run.output());
      const checks = savedChecks(outDir);
      console.log(
        `conformance, both scenarios: ${t.passed} passed, ${t.failed} failed\n${checks.join("\n")}`,
      );
      expect(t.failed, run.output()).toBe(0);
      expect(t.passed).toBe(checks.length);
      expect(t.passed).toBeGreaterThanOrEqual(3);
      // Every check the suite saved succeeded, the code grant's among them.
      expect(checks).toContain("SUCCESS authorization-code-grant");
      expect(
        checks.every((c) => c.startsWith("SUCCESS")),
        checks.join("\n"),
      ).toBe(true);
    } finally {
      run.child.kill("SIGTERM");
    }
  }, 90_000);
});
