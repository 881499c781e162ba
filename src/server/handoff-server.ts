/**
 * The composition root: starts a server in steps (docs/architecture.md):
 * telemetry, stores, clients, tokens, flows, transports, and listening last,
 * so no connection is accepted before its handlers exist.
 */
import type pino from "pino";
import type { AuthorizationCodeFlow } from "../domain/authorization-code-flow.js";
import type { ClientDirectory } from "../domain/client-directory.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import type { ClientStore } from "../domain/ports/client-store.js";
import type { DeviceStore } from "../domain/ports/device-store.js";
import type { FlowEvents } from "../domain/ports/flow-events.js";
import type { TokenWaits } from "../domain/token-wait.js";
import type { HandoffMetrics } from "../telemetry/metrics.js";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import { buildClients } from "./build-clients.js";
import { buildFlows } from "./build-flows.js";
import { buildStores } from "./build-stores.js";
import { buildTelemetry } from "./build-telemetry.js";
import { buildTokens, type Tokens } from "./build-tokens.js";
import { buildTransports } from "./build-transports.js";
import type { HandoffConfig } from "./handoff-config.js";
import { listen } from "./listen.js";

export type {
  ClientMetadataLimits,
  HandoffConfig,
  MetadataDocumentsConfig,
  RegistrationConfig,
} from "./handoff-config.js";

export interface RunningHandoff {
  readonly port: number;
  /** The issuer, also the base URL of every endpoint. */
  readonly issuer: string;
  readonly flow: DeviceFlow;
  /** The authorization code grant (the same object the endpoints call). */
  readonly codeFlow: AuthorizationCodeFlow;
  readonly store: DeviceStore;
  /** Every client the domain can find: the clients file, the store, metadata documents. */
  readonly clients: ClientDirectory;
  /** Clients kept in the state store (RFC 7591 registrations), shared by every instance. */
  readonly clientStore: ClientStore;
  /** The cached Client ID Metadata Documents (another space of the store), when they are on. */
  readonly documentCache: ClientStore | undefined;
  /** The open WaitToken streams of this instance. */
  readonly waits: TokenWaits;
  /** Refresh, revocation and introspection (the same object the endpoints call). */
  readonly tokens: TokenLifecycle;
  /** The events port every part reports through (audit log and counters); streams set its gauge. */
  readonly events: FlowEvents;
  readonly metrics: HandoffMetrics;
  /** Re-reads signingKeysFile now (what SIGHUP does); false if it could not. */
  reloadSigningKeys(): Promise<boolean>;
  /** Re-reads the TLS certificate and key now (what SIGHUP does); false if they did not load. */
  reloadTls(): Promise<boolean>;
  readonly logger: pino.Logger;
  close(graceMs?: number): Promise<void>;
}

export async function startHandoff(c: HandoffConfig): Promise<RunningHandoff> {
  const telemetry = buildTelemetry(c);
  const { logger } = telemetry;
  const stores = buildStores(c, telemetry);
  let tokens: Tokens | undefined;
  try {
    const resources = c.resourceLimits;
    const clients = buildClients(c, stores, telemetry);
    tokens = buildTokens(c, { stores, clients, resources, telemetry });
    const flows = buildFlows(c, { stores, clients, tokens, resources, telemetry });
    const transports = await buildTransports(c, { stores, clients, tokens, flows, telemetry });
    const { sniffer, port, tls } = await listen(c, transports, logger).catch(async (e: unknown) => {
      await transports.app.close();
      throw e;
    });
    // A renewed certificate without a restart: SIGHUP (README "TLS in-process").
    const reloadTls = async (): Promise<boolean> => {
      if (!tls) return false;
      try {
        await tls.reload();
        logger.info("tls: certificate and key reloaded");
        return true;
      } catch (e) {
        logger.error(
          { err: (e as Error).message },
          "tls: reload failed; the pair in service stays",
        );
        return false;
      }
    };
    const onSighup = () => void reloadTls();
    if (tls) process.on("SIGHUP", onSighup);
    logger.info({ issuer: c.issuer, port, store: telemetry.backend }, "listening");

    const { app, sessions } = transports;
    const built = tokens;
    return {
      port,
      issuer: c.issuer,
      flow: flows.device,
      codeFlow: flows.code,
      store: stores.device,
      clients: clients.directory,
      clientStore: stores.clients,
      documentCache: stores.documents,
      waits: flows.waits,
      tokens: built.lifecycle,
      events: telemetry.events,
      metrics: telemetry.metrics,
      reloadSigningKeys: () => built.reloadSigningKeys(),
      reloadTls,
      logger,
      /**
       * Stops accepting, lets requests in flight finish for up to `graceMs`,
       * then cuts what is left: idle keep-alive connections never hold it up.
       */
      async close(graceMs = 5000) {
        const stopped = new Promise<void>((resolve) => sniffer.server.close(() => resolve()));
        flows.waits.close(); // open streams end now (UNAVAILABLE): their clients poll or reconnect elsewhere
        for (const session of sessions) session.close(); // GOAWAY: finish open streams, take no new ones
        const appClosed = app.close(); // answers 503 to new requests, waits for busy ones
        // The HTTP/1.1 server never listened itself (the sniffer did), so close its idle keep-alives here.
        app.server.closeIdleConnections();
        const timer = setTimeout(() => {
          for (const socket of sniffer.sockets) socket.destroy();
        }, graceMs);
        await Promise.all([stopped, appClosed]);
        clearTimeout(timer);
        built.close();
        process.off("SIGHUP", onSighup);
        await stores.close();
      },
    };
  } catch (e) {
    // Nothing listens: undo what was built (watchers, connections) before failing.
    tokens?.close();
    await stores.close();
    throw e;
  }
}
