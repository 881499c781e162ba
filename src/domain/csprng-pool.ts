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

/** Where the next `n` bytes start, after a refill if fewer are left. */
function take(n: number): number {
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const at = offset;
  offset += n;
  return at;
}

/** `n` fresh bytes from the CSPRNG (a copy: callers may keep or change it). */
export function csprngBytes(n: number): Buffer {
  if (n > POOL_SIZE) return randomFillSync(Buffer.alloc(n));
  const at = take(n);
  const out = Buffer.from(pool.subarray(at, at + n));
  pool.fill(0, at, at + n); // handed out: do not keep a copy around
  return out;
}

/**
 * `n` fresh bytes from the CSPRNG as base64url: `csprngBytes(n)` encoded,
 * without the copy (the codes and nonces are only ever used as text).
 */
export function csprngBase64url(n: number): string {
  if (n > POOL_SIZE) return csprngBytes(n).toString("base64url");
  const at = take(n);
  const out = pool.toString("base64url", at, at + n);
  pool.fill(0, at, at + n);
  return out;
}
