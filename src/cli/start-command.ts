/** `handoff start` and `handoff start-dev`: the server, until SIGTERM or SIGINT. */
import { readSettings } from "../config/settings.js";
import { startHandoff } from "../server/handoff-server.js";
import { isLoopbackHost, loadConfig, type Mode } from "../server/load-config.js";
import { asyncStdout, createLogger, flushLogs } from "../server/logger.js";
import { devBanner, signInHint } from "./banner.js";

export async function startCommand(mode: Mode): Promise<void> {
  const settings = readSettings(process.env);
  // One asynchronous stdout for every line of the process, flushed before it exits.
  const logDestination = asyncStdout();
  const logger = createLogger(settings.HANDOFF_LOG_LEVEL, logDestination);
  const config = await loadConfig(settings, mode, logger);
  const server = await startHandoff({ ...config, logDestination });
  if (mode === "development") {
    const store = config.redis ? ("url" in config.redis ? "redis" : "redis cluster") : "memory";
    const exposed = isLoopbackHost(config.host) ? undefined : config.host;
    process.stdout.write(
      devBanner(server.issuer, store, config.serviceToken, exposed, signInHint(settings)),
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, "shutting down");
    server.close().then(
      () => flushLogs(server.logger).then(() => process.exit(0)),
      () => flushLogs(server.logger).then(() => process.exit(1)),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
