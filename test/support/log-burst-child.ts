/**
 * A child process for test/server/logger.test.ts: logs `LINES` lines through
 * the process's asynchronous stdout, then exits at once, as a SIGTERM handler
 * that calls process.exit does. Every line must still reach stdout.
 */
import { asyncStdout, createLogger } from "../../src/server/logger.js";

const logger = createLogger("info", asyncStdout());
const lines = Number(process.env.LINES ?? 1000);
process.once("SIGTERM", () => process.exit(0));
for (let i = 0; i < lines; i++) logger.info({ i }, "line");
process.kill(process.pid, "SIGTERM");
