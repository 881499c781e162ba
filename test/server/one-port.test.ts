/** One port for every protocol (docs/architecture.md), and the limits on slow clients. */
import http2 from "node:http2";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/handoff-server.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ headersTimeoutMs: 600, requestTimeoutMs: 1500 });
});
afterAll(async () => server.close());

/** Writes raw bytes, resolves with everything read until the server closes (or `ms` passes). */
function raw(chunks: string[], ms = 4000): Promise<{ data: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, "127.0.0.1");
    let data = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closedByServer: false });
    }, ms);
    socket.on("data", (d) => {
      data += d.toString("latin1");
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ data, closedByServer: true });
    });
    socket.on("error", reject);
    socket.on("connect", () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

describe("the protocol sniffer", () => {
  it("serves an HTTP/1.x request shorter than the HTTP/2 preface", async () => {
    const { data } = await raw(["GET / HTTP/1.0\r\n\r\n"]);
    expect(data).toMatch(/^HTTP\/1\.[01] 404/);
  });

  it("routes once: an RPC path (also Connect GET with a query) to Connect, an unknown /handoff.* path to the RFC 404", async () => {
    const rpc = await fetch(`${server.issuer}/handoff.v1.DeviceAuthService/Authorize`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ clientId: "public-cli" }),
    });
    expect(rpc.status).toBe(200);
    expect(await rpc.json()).toHaveProperty("deviceCode");
    // Connect GET carries its message in the query; the path alone decides the route.
    const get = await fetch(
      `${server.issuer}/handoff.v1.DeviceAuthService/Authorize?connect=v1&encoding=json&message=%7B%7D`,
    );
    // Connect's own answer (Authorize has side effects, so no GET); fastify knows no such path (404).
    expect(get.status).toBe(405);
    const unknown = await fetch(`${server.issuer}/handoff.v1.DeviceAuthService/Nope`, {
      method: "POST",
    });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "not_found" });
  });

  it("serves HTTP/1.1 whose first bytes arrive one at a time", async () => {
    const req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const { data } = await raw([...req]);
    expect(data).toMatch(/^HTTP\/1\.1 200/);
  });

  it("serves HTTP/2 with prior knowledge (h2c) on the same port", async () => {
    const session = http2.connect(server.issuer);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/handoff.v1.DeviceAuthService/Authorize",
          "content-type": "application/json",
        });
        req.on("response", (h) => resolve(Number(h[":status"])));
        req.on("error", reject);
        req.end(JSON.stringify({ clientId: "public-cli" }));
      });
      expect(status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("limits HTTP/2 to 256 concurrent streams per session (advertised in SETTINGS)", async () => {
    const session = http2.connect(server.issuer);
    try {
      const settings = await new Promise<http2.Settings>((resolve) =>
        session.once("remoteSettings", resolve),
      );
      expect(settings.maxConcurrentStreams).toBe(256);
    } finally {
      session.close();
    }
  });

  it("closes a connection that sends nothing", async () => {
    const { closedByServer } = await raw([], 3000);
    expect(closedByServer).toBe(true);
  });

  it("closes a connection that stalls inside the HTTP/2 preface", async () => {
    const { closedByServer } = await raw(["PRI * HTTP/2.0\r\n"], 3000);
    expect(closedByServer).toBe(true);
  });

  it("cuts off a client that trickles its headers (headers timeout)", async () => {
    const { data, closedByServer } = await raw(
      ["POST /oauth/token HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n"],
      4000,
    );
    expect(closedByServer).toBe(true);
    expect(data === "" || /^HTTP\/1\.1 408/.test(data)).toBe(true);
  });
});

describe("slow bodies", () => {
  it("cuts off a client that trickles its body past the request timeout", async () => {
    const socket = net.connect(server.port, "127.0.0.1");
    let data = "";
    socket.on("data", (d) => {
      data += d.toString("latin1");
    });
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 6000);
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
    socket.write(
      "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n",
    );
    // One byte every 200 ms: the headers were on time, the body never finishes.
    const drip = setInterval(() => socket.writable && socket.write("a"), 200);
    try {
      expect(await closed).toBe(true); // requestTimeoutMs is 1500 here
      expect(data === "" || /^HTTP\/1\.1 408/.test(data)).toBe(true);
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  });
});

describe("shutdown", () => {
  it("does not wait for idle keep-alive connections", async () => {
    const s = await startTestServer();
    await fetch(`${s.issuer}/healthz`); // leaves a keep-alive connection open
    const started = process.hrtime.bigint();
    await s.close(10_000);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(ms).toBeLessThan(2000); // the grace period is 10 s: only a leak would wait for it
  });
});
