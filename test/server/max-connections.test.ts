/**
 * Open connections per instance are capped (HANDOFF_MAX_CONNECTIONS,
 * docs/hostile-input.md): past the cap a new connection is closed as soon as
 * it is accepted, while the connections already open keep being served.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";

const MAX = 3;
const HEALTHZ = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

let server: TestServer;
const opened: net.Socket[] = [];
beforeAll(async () => {
  server = await startTestServer({ maxConnections: MAX });
});
afterAll(async () => {
  for (const s of opened) s.destroy();
  await server.close();
});

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, "127.0.0.1", () => resolve(s));
    s.once("error", reject);
    opened.push(s);
  });
}

/** Sends a request and resolves with the first bytes of the answer, or "closed". */
function ask(s: net.Socket, request: string): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("no answer"), 5000);
    const done = (what: string) => {
      clearTimeout(timer);
      s.removeAllListeners("data");
      resolve(what);
    };
    s.once("data", (d: Buffer) => done(d.toString("latin1")));
    s.once("close", () => done("closed"));
    s.once("error", () => done("closed"));
    if (!s.destroyed) s.write(request);
  });
}

describe("open connections (HANDOFF_MAX_CONNECTIONS)", () => {
  it(`${MAX} connections are served; the ${MAX + 1}th is closed; the open ones still answer; one freed makes room`, async () => {
    const held: net.Socket[] = [];
    for (let i = 0; i < MAX; i++) {
      const s = await connect();
      // An answer means the server accepted it and counts it.
      expect(await ask(s, HEALTHZ)).toMatch(/^HTTP\/1\.1 200/);
      held.push(s);
    }
    const extra = await connect(); // the kernel completes the handshake; Node then closes it
    expect(await ask(extra, HEALTHZ)).toBe("closed");
    expect(await ask(held[0] as net.Socket, HEALTHZ)).toMatch(/^HTTP\/1\.1 200/);
    expect(server.logs()).toContain('"limit":"connections"');

    (held.pop() as net.Socket).destroy();
    // The server sees the close a moment later: retry (bounded) until a new connection is served.
    let answer = "";
    for (let i = 0; i < 50 && !answer.startsWith("HTTP/1.1 200"); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      answer = await ask(await connect(), HEALTHZ);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });
});
