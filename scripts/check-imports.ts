/**
 * The import-direction check run by `npm run lint`: every import between the
 * folders of src/ must follow the table below (docs/architecture.md explains
 * it), and no two files of src/ may import each other in a cycle. A folder may
 * always import its own files. Imports of packages are not checked here.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/**
 * Which folders each folder of src/ may import (besides itself). `gen` is the
 * generated protobuf code, one level up. The table is itself checked to be
 * acyclic, so following it can never make a cycle between folders.
 */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  domain: [],
  gen: [],
  store: ["domain"],
  tokens: ["domain"],
  config: ["domain", "tokens"],
  telemetry: ["domain"],
  outbound: ["domain"],
  auth: ["domain", "config"],
  http: ["domain", "tokens", "config", "auth"],
  pages: ["domain", "tokens", "config", "auth", "http"],
  rpc: ["domain", "tokens", "config", "auth", "gen"],
  // handoff/client: the public contract only (docs/client.md), never server internals.
  client: ["gen"],
  // handoff/resource-server: the public HTTP contract only (JWKS, RFC 9728), never server internals.
  "resource-server": [],
  server: [
    "domain",
    "tokens",
    "config",
    "auth",
    "http",
    "pages",
    "rpc",
    "store",
    "telemetry",
    "outbound",
    "gen",
  ],
  cli: [
    "domain",
    "tokens",
    "config",
    "auth",
    "http",
    "pages",
    "rpc",
    "store",
    "telemetry",
    "server",
    "client",
    "gen",
  ],
};

/** One import of a file of ours by another, paths relative to the repository root. */
export interface ImportEdge {
  readonly from: string;
  readonly to: string;
}

/** The folder of src/ a path belongs to (`src/store/x.ts` → `store`; `gen/…` → `gen`). */
export function folderOf(file: string): string | undefined {
  const parts = file.split("/");
  if (parts[0] === "gen") return "gen";
  return parts[0] === "src" && parts.length > 2 ? parts[1] : undefined;
}

/** Every relative import of every .ts file under src/ (type-only ones too). */
export function importEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(path.join(root, rel), "utf8");
        for (const imported of ts.preProcessFile(text, true, true).importedFiles) {
          if (!imported.fileName.startsWith(".")) continue;
          const to = path.posix
            .normalize(path.posix.join(path.posix.dirname(rel), imported.fileName))
            .replace(/\.js$/, ".ts");
          edges.push({ from: rel, to });
        }
      }
    }
  };
  walk("src");
  return edges;
}

/** Imports that go against ALLOWED, as readable lines. */
export function directionViolations(
  edges: readonly ImportEdge[],
  allowed: Readonly<Record<string, readonly string[]>> = ALLOWED,
): string[] {
  const problems: string[] = [];
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a === undefined || b === undefined || a === b) continue;
    const list = allowed[a];
    if (list === undefined) problems.push(`${from}: folder src/${a} is not in the table`);
    else if (!list.includes(b)) {
      problems.push(
        `${from} imports ${to}: src/${a} may import only ${list.join(", ") || "itself"}`,
      );
    }
  }
  return problems;
}

/** The cycles of a directed graph (one per strongly connected component of 2+ nodes or a self-loop). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm (recursive: a source tree is shallow enough).
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number));
      }
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v);
  return found;
}

/** The graph of a list of edges, mapped through `key` (files, or their folders). */
export function graphOf(
  edges: readonly ImportEdge[],
  key: (file: string) => string | undefined = (f) => f,
): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const { from, to } of edges) {
    const a = key(from);
    const b = key(to);
    // Within one folder is not an edge between folders (a file importing itself still is).
    if (a === undefined || b === undefined || (a === b && from !== to)) continue;
    const list = graph.get(a) ?? [];
    if (!list.includes(b)) list.push(b);
    graph.set(a, list);
  }
  return graph;
}

/** Everything wrong with the tree at `root`: direction, folder cycles, file cycles, the table. */
export function importProblems(root: string): string[] {
  const edges = importEdges(root);
  const table = new Map(Object.entries(ALLOWED).map(([k, v]) => [k, [...v]]));
  return [
    ...cycles(table).map((c) => `the ALLOWED table has a cycle: ${c.join(" ↔ ")}`),
    ...directionViolations(edges),
    ...cycles(graphOf(edges, folderOf)).map((c) => `folders import each other: ${c.join(" ↔ ")}`),
    ...cycles(graphOf(edges)).map((c) => `files import each other: ${c.join(" ↔ ")}`),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const problems = importProblems(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`${problems.length} import problem(s); see docs/architecture.md`);
    process.exit(1);
  }
}
