/** The batched log destination: one write per batch off the request path, a bound, no line lost or split. */
import { closeSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BatchedLogStream } from "../../src/server/batched-log-stream.js";

function target() {
  const path = join(mkdtempSync(join(tmpdir(), "handoff-log-")), "out.log");
  const fd = openSync(path, "w");
  return { fd, read: () => readFileSync(path, "utf8"), close: () => closeSync(fd) };
}
const lines = (n: number) => Array.from({ length: n }, (_, i) => `{"i":${i}}\n`);
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("BatchedLogStream", () => {
  it("writes nothing per line: a full batch goes out after the current turn, in order", async () => {
    const t = target();
    const s = new BatchedLogStream(t.fd, { batchChars: 1000, maxChars: 100_000 });
    for (const l of lines(10)) s.write(l);
    await nextTurn();
    expect(t.read()).toBe(""); // under a batch: still waiting
    for (const l of lines(200).slice(10)) s.write(l); // past a batch, within one turn
    expect(t.read()).toBe(""); // not inside write(): the request's turn is not held up
    await nextTurn();
    expect(t.read()).toBe(lines(200).join(""));
    s.close();
    t.close();
  });

  it("bounded: past maxChars within one turn the waiting lines are written at once; none lost, none twice", () => {
    const t = target();
    const s = new BatchedLogStream(t.fd, { batchChars: 100, maxChars: 2000 });
    const all = lines(20_000);
    for (const l of all) s.write(l);
    expect(all.join("").length - t.read().length).toBeLessThanOrEqual(2000);
    s.flushSync();
    expect(t.read()).toBe(all.join(""));
    s.close();
    t.close();
  });

  it("flush (pino's logger.flush) writes what waits and then calls back", async () => {
    const t = target();
    const s = new BatchedLogStream(t.fd, { batchChars: 1 << 20, maxChars: 1 << 21 });
    for (const l of lines(100)) s.write(l);
    await new Promise<void>((resolve) => s.flush(resolve));
    expect(t.read()).toBe(lines(100).join(""));
    s.close();
    t.close();
  });
});
