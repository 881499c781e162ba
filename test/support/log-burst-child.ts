/**
 * A child process for test/server/logger.test.ts: logs `LINES` lines through
 * the process's batched stdout, then calls process.exit in the same turn, so
 * every line still waits in memory. Every line must still reach stdout.
 */
import { asyncStdout, createLogger } from "../../src/server/logger.js";

const logger = createLogger("info", asyncStdout());
const lines = Number(process.env.LINES ?? 1000);
for (let i = 0; i < lines; i++) logger.info({ i }, "line");
process.exit(0);
