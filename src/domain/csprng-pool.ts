/**
 * Random bytes from the CSPRNG, drawn in batches. Each `randomFillSync` call
 * costs a trip into OpenSSL; at the device authorization's rate that was 8 %
 * of its CPU (two draws per request). Node's own `crypto.randomUUID` batches
 * its entropy the same way. Every byte is handed out once and never reused.
 */
import { randomFillSync } from "node:crypto";

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** `n` fresh bytes from the CSPRNG (a copy: callers may keep or change it). */
export function csprngBytes(n: number): Buffer {
  if (n > POOL_SIZE) return randomFillSync(Buffer.alloc(n));
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  pool.fill(0, offset, offset + n); // handed out: do not keep a copy around
  offset += n;
  return out;
}
