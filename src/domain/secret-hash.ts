/**
 * Hashing and constant-time checking of client secrets, service tokens and
 * page passwords. scrypt always runs on libuv's threadpool (async
 * `crypto.scrypt`): a request path never derives a key synchronously.
 */
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const MAXMEM = 256 * 1024 * 1024;
/** The cost `handoff secrets hash` and `handoff users add` write: N = 2^15, r = 8, p = 1 (32 MiB). */
export const SCRYPT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;

/** A parsed `scrypt:<N>:<r>:<p>:<salt>:<key>` hash, or null if malformed or out of bounds. */
function parseScrypt(stored: string) {
  const parts = stored.split(":");
  if (parts.length !== 6 || parts[0] !== "scrypt") return null;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(key, "base64url");
  const ok =
    Number.isInteger(cost.N) &&
    cost.N >= 2 &&
    cost.N <= 2 ** 20 &&
    Number.isInteger(cost.r) &&
    cost.r >= 1 &&
    Number.isInteger(cost.p) &&
    cost.p >= 1 &&
    expected.length >= 16;
  return ok ? { cost, salt: Buffer.from(salt, "base64url"), expected } : null;
}

/** The scrypt cost N of a stored hash, or undefined if it is no scrypt hash. */
export function scryptCostOf(stored: string): number | undefined {
  return parseScrypt(stored)?.cost.N;
}

/** True when `secret` matches an scrypt hash; derived off the event loop. */
export async function verifyScrypt(secret: string, stored: string): Promise<boolean> {
  const h = parseScrypt(stored);
  if (h === null) return false;
  const derived = await scryptAsync(secret, h.salt, h.expected.length, {
    ...h.cost,
    maxmem: MAXMEM,
  });
  return timingSafeEqual(derived, h.expected);
}

/** Hashes a secret in the scrypt format, off the event loop. */
export async function hashScrypt(secret: string, N: number = SCRYPT_COST.N): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, 32, { ...SCRYPT_COST, N, maxmem: MAXMEM });
  return `scrypt:${N}:${SCRYPT_COST.r}:${SCRYPT_COST.p}:${salt.toString("base64url")}:${key.toString("base64url")}`;
}

/**
 * Recent successful scrypt verifications, so a confidential client that
 * polls every few seconds pays scrypt's ~100 ms of threadpool once per
 * `ttlMs`, not on every poll. Each entry is keyed by the stored hash and
 * holds an HMAC of the secret that matched it, under a key made at start
 * and never kept anywhere: the cache holds nothing an attacker could turn
 * back into the secret. A presented secret is compared by its HMAC in
 * constant time. Only one secret can match a stored hash, so while an entry
 * is live a different secret is wrong without running scrypt: wrong guesses
 * then cost no threadpool either (the price: the answer's timing tells that
 * the client authenticated within `ttlMs`, nothing about the secret).
 */
export class RecentVerifications {
  private readonly key = randomBytes(32);
  private readonly entries = new Map<string, { mac: Buffer; expiresAt: number }>();

  constructor(
    private readonly maxEntries = 1024,
    private readonly ttlMs = 600_000,
    private readonly clock: () => number = Date.now,
  ) {}

  private mac(secret: string): Buffer {
    return createHmac("sha256", this.key).update(secret).digest();
  }

  /** true: this secret matched recently; false: another one did; undefined: not known. */
  check(stored: string, secret: string): boolean | undefined {
    const e = this.entries.get(stored);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.clock()) {
      this.entries.delete(stored);
      return undefined;
    }
    return timingSafeEqual(e.mac, this.mac(secret));
  }

  /** Remembers a successful verification; the oldest entry goes when full. */
  remember(stored: string, secret: string): void {
    this.entries.delete(stored);
    this.entries.set(stored, { mac: this.mac(secret), expiresAt: this.clock() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

/** The process's cache of client-secret verifications (bounded: 1,024 clients, 10 minutes). */
const recentClientSecrets = new RecentVerifications();

/**
 * Checks a client secret. Formats: `sha256:<base64url digest>` for
 * high-entropy secrets that handoff generates (a fast hash is enough when
 * the secret cannot be guessed), and `scrypt:<N>:<r>:<p>:<base64url
 * salt>:<base64url key>` for secrets a person chose, verified off the event
 * loop and remembered for a while (RecentVerifications). Unknown formats
 * never verify.
 */
export async function verifySecret(
  secret: string,
  stored: string,
  recent: RecentVerifications = recentClientSecrets,
): Promise<boolean> {
  const parts = stored.split(":");
  if (parts[0] === "sha256" && parts.length === 2) {
    return constantTimeEqual(
      createHash("sha256").update(secret).digest(),
      Buffer.from(parts[1] ?? "", "base64url"),
    );
  }
  const known = recent.check(stored, secret);
  if (known !== undefined) return known;
  const ok = await verifyScrypt(secret, stored);
  if (ok) recent.remember(stored, secret);
  return ok;
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
