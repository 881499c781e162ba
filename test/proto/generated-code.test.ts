/** gen/ is exactly what `buf generate` makes from proto/ with the local plugin, and `buf lint` passes. */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const buf = join(root, "node_modules", ".bin", "buf");

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "utf8"));
    }
  };
  walk(dir);
  return out;
}

describe("protobuf contract", () => {
  it("buf lint passes", () => {
    expect(() => execFileSync(buf, ["lint"], { cwd: root, stdio: "pipe" })).not.toThrow();
  });

  it("gen/ matches a fresh `buf generate` (no drift, no hand edits)", () => {
    const work = mkdtempSync(join(tmpdir(), "handoff-gen-"));
    try {
      for (const f of ["buf.yaml", "buf.gen.yaml"]) cpSync(join(root, f), join(work, f));
      cpSync(join(root, "proto"), join(work, "proto"), { recursive: true });
      execFileSync(buf, ["generate"], {
        cwd: work,
        stdio: "pipe",
        env: { ...process.env, PATH: `${join(root, "node_modules", ".bin")}:${process.env.PATH}` },
      });
      const fresh = files(join(work, "gen"));
      const committed = files(join(root, "gen"));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [name, text] of fresh) expect(committed.get(name), name).toBe(text);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
