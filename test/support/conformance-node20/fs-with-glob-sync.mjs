/**
 * `node:fs` plus the `globSync` that Node 22 added. The MCP conformance
 * package imports `globSync` from "fs" at load time, though the authorization
 * scenarios never call it; on Node 20 the import alone fails. This module
 * stands in for "fs" inside that package only (see register.mjs), and throws
 * if anything does call it, so a scenario that needs it fails loudly.
 */
import fs from "node:fs";

export * from "node:fs";
export default fs;

export function globSync(pattern) {
  throw new Error(`fs.globSync(${JSON.stringify(pattern)}) needs Node 22; not available here`);
}
