/**
 * The reasons stay in the repository (docs/architecture.md): a relative link
 * in README.md or docs/*.md must name a file that exists, and every test
 * docs/conformance.md cites must exist, under that name, in that file.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOCS = [
  "README.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks (a link there is an example, not a link). */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "");
}

/** Relative link targets of `[text](target)` and `![alt](target)`, without their #fragment. */
function relativeLinks(markdown: string): string[] {
  const targets: string[] = [];
  for (const m of prose(markdown).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1] as string;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("#")) continue;
    targets.push(decodeURIComponent(target.split("#")[0] as string));
  }
  return targets;
}

/** Each cited test: `test/….test.ts` "test name". */
function citedTests(markdown: string): { file: string; name: string }[] {
  return [...markdown.matchAll(/`(test\/[^`]+\.test\.ts)` "([^"]+)"/g)].map((m) => ({
    file: m[1] as string,
    name: m[2] as string,
  }));
}

describe("links and citations in the docs", () => {
  it("finds relative links and skips URLs, anchors and code blocks", () => {
    const links = relativeLinks(
      "[a](docs/x.md#y) [b](https://e.org) [c](#z) ![d](img.png)\n```\n[e](missing.md)\n```\n",
    );
    expect(links).toEqual(["docs/x.md", "img.png"]);
  });

  it.each(DOCS)("%s: every relative link names a file that exists", (doc) => {
    const text = readFileSync(path.join(ROOT, doc), "utf8");
    const missing = relativeLinks(text).filter(
      (target) => !existsSync(path.resolve(ROOT, path.dirname(doc), target)),
    );
    expect(missing).toEqual([]);
  });

  it("docs/conformance.md: every cited test exists, under that name, in that file", () => {
    const cited = citedTests(readFileSync(path.join(ROOT, "docs/conformance.md"), "utf8"));
    expect(cited.length).toBeGreaterThan(50);
    const wrong = cited.filter(({ file, name }) => {
      const p = path.join(ROOT, file);
      return !existsSync(p) || !readFileSync(p, "utf8").includes(`"${name}"`);
    });
    expect(wrong).toEqual([]);
  });

  it("a citation of a missing test or file would be caught", () => {
    const cited = citedTests(
      '`test/http/token-endpoint.test.ts` "no such test" `test/nope.test.ts` "x"',
    );
    expect(cited).toHaveLength(2);
    for (const { file, name } of cited) {
      const p = path.join(ROOT, file);
      expect(existsSync(p) && readFileSync(p, "utf8").includes(`"${name}"`)).toBe(false);
    }
  });
});
