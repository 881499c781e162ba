/**
 * The one-port sniffer (src/server/protocol-sniffer.ts; docs/architecture.md
 * "One port: the protocol sniffer") listens instead of node:http's server,
 * so it must keep what that server would set on each connection.
 */
import http from "node:http";
import net from "node:net";
import { describe, expect, it } from "vitest";
import { createProtocolSniffer } from "../../src/server/protocol-sniffer.js";

describe("protocol sniffer: the listening server", () => {
  it("turns Nagle's algorithm off on every accepted connection, as node:http's own server does", () => {
    const sniffer = createProtocolSniffer({}, { firstBytesTimeoutMs: 1000 });
    // net.Server calls setNoDelay(true) on each accepted handle when this is set;
    // a plain net.Server leaves it false, node:http's defaults it to true.
    expect((sniffer.server as net.Server & { noDelay: boolean }).noDelay).toBe(true);
    expect((http.createServer() as http.Server & { noDelay: boolean }).noDelay).toBe(true);
    expect((net.createServer() as net.Server & { noDelay: boolean }).noDelay).toBe(false);
  });
});
