/**
 * `handoff login`, `token` and `logout` start fast because they load only
 * the client library: no server code (fastify, ioredis, the RPC services),
 * checked on the import graph that `npm run lint` reads too.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { importEdges } from "../../scripts/check-imports.js";

const root = join(import.meta.dirname, "..", "..");

/** Every file of ours `start` reaches, static and dynamic imports alike. */
function reachable(start: string): Set<string> {
  const edges = importEdges(root);
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    for (const e of edges)
      if (e.from === file && !seen.has(e.to)) seen.add(e.to) && queue.push(e.to);
  }
  return seen;
}

/** The packages a file imports (`fastify`, `@connectrpc/connect` …). */
function packagesOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((i) => i.fileName)
    .filter((n) => !n.startsWith(".") && !n.startsWith("node:"));
}

describe("the client commands load no server code", () => {
  for (const command of ["login", "token", "logout"]) {
    it(`handoff ${command}: nothing of src/server, store, rpc, http or pages; no fastify, ioredis or pino`, () => {
      const files = [...reachable(`src/cli/${command}-command.ts`)];
      expect(files.length).toBeGreaterThan(3);
      const server = files.filter((f) =>
        /^src\/(server|store|rpc|http|pages|auth|config)\//.test(f),
      );
      expect(server).toEqual([]);
      const packages = new Set(files.flatMap(packagesOf));
      for (const heavy of [
        "fastify",
        "ioredis",
        "pino",
        "prom-client",
        "@connectrpc/connect-fastify",
      ])
        expect(packages.has(heavy), heavy).toBe(false);
    });
  }

  it("main.ts reaches every command only through import()", () => {
    const text = readFileSync(join(root, "src/cli/main.ts"), "utf8");
    expect(text).not.toMatch(/^import\s/m);
    for (const command of ["login", "token", "logout", "start"])
      expect(text).toContain(`await import("./${command}-command.js")`);
  });
});
