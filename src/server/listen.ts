/**
 * Startup, last step: listen on the one port. Called only once every handler
 * exists, so no connection is accepted before there is something to serve it
 * (the protocol sniffer hands each one to the HTTP/1.1 or the HTTP/2 server).
 */
import type { AddressInfo } from "node:net";
import type { Transports } from "./build-transports.js";
import type { HandoffConfig } from "./handoff-config.js";
import { createProtocolSniffer, type Sniffer } from "./protocol-sniffer.js";
import { readTlsMaterial, TlsFront } from "./tls-front.js";

export interface Listening {
  readonly sniffer: Sniffer;
  /** In TLS mode: what SIGHUP reloads. */
  readonly tls: TlsFront | undefined;
  /** The port bound (the one asked for, or the one chosen for port 0). */
  readonly port: number;
}

export async function listen(
  c: HandoffConfig,
  t: Transports,
  log?: { warn(fields: Record<string, unknown>, message: string): void },
): Promise<Listening> {
  const max = c.maxConnections;
  const targets = { h1: t.app.server, h2: t.h2 };
  const firstBytesTimeoutMs = c.headersTimeoutMs;
  const tls = c.tls
    ? new TlsFront(c.tls, await readTlsMaterial(c.tls), targets, firstBytesTimeoutMs)
    : undefined;
  const sniffer = createProtocolSniffer(targets, {
    firstBytesTimeoutMs,
    maxConnections: max,
    onDropped: (dropped) =>
      log?.warn(
        { limit: "connections", dropped, max },
        "open connections at HANDOFF_MAX_CONNECTIONS: new ones closed",
      ),
    ...(tls ? { tls } : {}),
  });
  // Node's HTTP server starts tracking connections (which enforces headersTimeout
  // and requestTimeout against slow clients, and lets closeIdleConnections work)
  // on its own 'listening' event. The sniffer listens instead, so run that setup.
  for (const setup of t.app.server.listeners("listening")) (setup as () => void).call(t.app.server);
  await new Promise<void>((resolve, reject) => {
    sniffer.server.once("error", reject);
    sniffer.server.listen(c.port, c.host, () => {
      sniffer.server.off("error", reject);
      resolve();
    });
  });
  return { sniffer, tls, port: (sniffer.server.address() as AddressInfo).port };
}
