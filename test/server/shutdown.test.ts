/**
 * Shutdown (SIGTERM): the server stops taking connections, finishes the
 * requests in flight, and answers any request that still reaches it while
 * it closes the way it answers any other moment it cannot serve: 503
 * `temporarily_unavailable` with Retry-After (RFC 9110 §15.6.4, §10.2.3;
 * docs/failure.md), and `Connection: close`, so the client tries again
 * elsewhere.
 */
import net from "node:net";
import { describe, expect, it } from "vitest";
import { sleep, startTestServer } from "../support/handoff-server.js";

describe("a request that reaches the server while it closes", () => {
  it("is 503 temporarily_unavailable with Retry-After and Connection: close, after the busy request before it was answered", async () => {
    const server = await startTestServer();
    const body = "client_id=public-cli";
    const request = (b: string) =>
      "POST /oauth/device/authorize HTTP/1.1\r\nHost: localhost\r\n" +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${b.length}\r\n\r\n`;
    const socket = net.connect(server.port, "127.0.0.1");
    let received = "";
    socket.on("data", (d) => {
      received += d.toString();
    });
    const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // A request in flight (its body not all sent) when the server starts closing…
    socket.write(request(body) + body.slice(0, -1));
    await sleep(200);
    const closed = server.close();
    await sleep(100);
    // …then the rest of it, and a second request on the same connection behind it.
    socket.write(body.slice(-1) + request(body) + body);
    await Promise.race([ended, sleep(5000)]);
    socket.destroy();
    await closed;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers.length).toBe(2);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200 /);
    const [head, json] = (answers[1] ?? "").split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(json ?? "")).toMatchObject({ error: "temporarily_unavailable" });
  });
});
