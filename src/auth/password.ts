/**
 * Password hashes for local users, in the scrypt format of
 * src/domain/secret-hash.ts (`scrypt:<N>:<r>:<p>:<salt>:<key>`), but
 * computed off the event loop: a sign-in must not stall every other request
 * for the ~100 ms that scrypt takes.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const MAXMEM = 256 * 1024 * 1024;

function derive(
  password: string,
  salt: Buffer,
  length: number,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, { ...cost, maxmem: MAXMEM }, (e, key) =>
      e ? reject(e) : resolve(key),
    ),
  );
}

/** Hashes a password with scrypt (N = 2^15, r = 8, p = 1: 32 MiB), the cost `handoff secrets hash` uses. */
export async function hashPassword(password: string, N = 2 ** 15): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, 32, { N, r: 8, p: 1 });
  return `scrypt:${N}:8:1:${salt.toString("base64url")}:${key.toString("base64url")}`;
}

/** True when `password` matches `stored`; unknown or malformed hashes never match. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split(":");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(key, "base64url");
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  if (
    !Number.isInteger(cost.N) ||
    cost.N < 2 ||
    cost.N > 2 ** 20 ||
    !Number.isInteger(cost.r) ||
    !Number.isInteger(cost.p) ||
    expected.length < 16
  ) {
    return false;
  }
  const derived = await derive(password, Buffer.from(salt, "base64url"), expected.length, cost);
  return timingSafeEqual(derived, expected);
}
