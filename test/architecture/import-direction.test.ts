/**
 * The import-direction check (scripts/check-imports.ts, run by `npm run lint`):
 * the tree passes it, and it catches a wrong-direction import and a cycle.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  ALLOWED,
  cycles,
  directionViolations,
  folderOf,
  graphOf,
  importEdges,
  importProblems,
} from "../../scripts/check-imports.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("import direction", () => {
  it("the source tree has no wrong-direction import and no cycle", () => {
    expect(importProblems(root)).toEqual([]);
  });

  it("sees the imports of the tree (the domain's ports are imported by the store adapters)", () => {
    const edges = importEdges(root);
    expect(edges).toContainEqual({
      from: "src/store/memory-device-store.ts",
      to: "src/domain/ports/device-store.ts",
    });
    // Every folder of src/ is in the table.
    for (const e of edges) expect(ALLOWED[folderOf(e.from) ?? "domain"]).toBeDefined();
  });

  it("flags the domain importing an adapter", () => {
    const problems = directionViolations([
      { from: "src/domain/device-flow.ts", to: "src/store/redis-device-store.ts" },
    ]);
    expect(problems).toEqual([
      "src/domain/device-flow.ts imports src/store/redis-device-store.ts: src/domain may import only itself",
    ]);
  });

  it("flags a folder missing from the table", () => {
    expect(directionViolations([{ from: "src/new/x.ts", to: "src/domain/y.ts" }])).toHaveLength(1);
  });

  it("finds a cycle between folders and between files", () => {
    const edges = [
      { from: "src/auth/a.ts", to: "src/pages/b.ts" },
      { from: "src/pages/b.ts", to: "src/http/c.ts" },
      { from: "src/http/c.ts", to: "src/auth/d.ts" },
      { from: "src/auth/d.ts", to: "src/auth/a.ts" },
    ];
    expect(cycles(graphOf(edges, folderOf))).toEqual([["auth", "http", "pages"]]);
    expect(cycles(graphOf(edges))).toEqual([
      ["src/auth/a.ts", "src/auth/d.ts", "src/http/c.ts", "src/pages/b.ts"],
    ]);
    expect(cycles(graphOf([{ from: "src/a/x.ts", to: "src/a/y.ts" }], folderOf))).toEqual([]);
  });
});
