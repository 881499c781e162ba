/** The logger's redaction: a second fence behind never logging bodies, queries or headers. */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/server/logger.js";

function capture() {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}

describe("createLogger", () => {
  it("keeps a failed Redis command's arguments out of the log (ioredis puts them on the error)", () => {
    const out = capture();
    const logger = createLogger("info", out.stream);
    const replyError = Object.assign(
      new Error("CROSSSLOT Keys in request don't hash to the same slot"),
      {
        command: {
          name: "evalsha",
          args: ["device:code:{abcd}:hash", "P\u001f5\u001fdemo-cli\u001f203.0.113.9"],
        },
      },
    );
    logger.warn({ err: replyError }, "state store unavailable");
    logger.warn({ err: new Error("wrapped", { cause: replyError }) }, "wrapped");
    const text = out.text();
    expect(text).toContain("CROSSSLOT"); // the reason stays
    expect(text).not.toContain("203.0.113.9");
    expect(text).not.toContain("device:code:{abcd}");
  });

  it("redacts headers, bodies and queries if they ever reach a log line", () => {
    const out = capture();
    createLogger("info", out.stream).info(
      {
        headers: { authorization: "Bearer s3cret" },
        body: "client_secret=x",
        query: { user_code: "ABCD-EFGH" },
      },
      "oops",
    );
    for (const secret of ["s3cret", "client_secret=x", "ABCD-EFGH"])
      expect(out.text()).not.toContain(secret);
  });

  it("the batched stdout loses no line when the process exits with every line still waiting", async () => {
    const root = join(import.meta.dirname, "..", "..");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", join(root, "test", "support", "log-burst-child.ts")],
      { cwd: root, env: { ...process.env, LINES: "5000" }, maxBuffer: 64 * 1024 * 1024 },
    );
    const seen = stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { i: number }).i);
    expect(seen).toHaveLength(5000);
    expect(new Set(seen).size).toBe(5000);
  });
});
