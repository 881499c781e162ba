/** Hashing and constant-time checking of client secrets and service tokens. */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";

/**
 * Formats: `sha256:<base64url digest>` for high-entropy secrets that handoff
 * generates (a fast hash is enough when the secret cannot be guessed), and
 * `scrypt:<N>:<r>:<p>:<base64url salt>:<base64url key>` for secrets a person
 * chose. Unknown formats never verify.
 */
export function verifySecret(secret: string, stored: string): boolean {
  const parts = stored.split(":");
  if (parts[0] === "sha256" && parts.length === 2) {
    return constantTimeEqual(
      createHash("sha256").update(secret).digest(),
      Buffer.from(parts[1] ?? "", "base64url"),
    );
  }
  if (parts[0] === "scrypt" && parts.length === 6) {
    const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
    const expected = Buffer.from(key, "base64url");
    const N = Number(n);
    if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || expected.length < 16) return false;
    const derived = scryptSync(secret, Buffer.from(salt, "base64url"), expected.length, {
      N,
      r: Number(r),
      p: Number(p),
      maxmem: 256 * 1024 * 1024,
    });
    return constantTimeEqual(derived, expected);
  }
  return false;
}

/** Hashes a secret in the scrypt format (for `handoff` commands that write config). */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16);
  const N = 2 ** 15;
  const key = scryptSync(secret, salt, 32, { N, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
  return `scrypt:${N}:8:1:${salt.toString("base64url")}:${key.toString("base64url")}`;
}

/** Hashes a high-entropy secret in the sha256 format. */
export function hashSecretFast(secret: string): string {
  return `sha256:${createHash("sha256").update(secret).digest("base64url")}`;
}

/**
 * Compares two secrets in time independent of where they differ. Lengths may
 * differ, so both sides are hashed to a fixed length first.
 */
export function constantTimeEqual(a: Buffer | string, b: Buffer | string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}
