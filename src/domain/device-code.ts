/** Device codes and the store handles (routing tag + hash) derived from both codes. */
import { hash } from "node:crypto";
import { csprngBase64url } from "./csprng-pool.js";

/**
 * What a store keys a record on. `tag` is shared by a request's device code
 * and user code, so both Redis keys land in one Cluster hash slot
 * (`{tag}`); `hash` is a SHA-256 of the code, so a dump of the store does not
 * hand out live codes.
 */
export interface CodeHandle {
  readonly tag: string;
  readonly hash: string;
}

const TAG_LENGTH = 4; // 24 bits: spreads evenly over Redis Cluster's 16384 slots
/**
 * 96 bits of SHA-256 name a record: infeasible to invert (a device code has
 * 256 bits; a user code only ~40, which no hash length protects), and no
 * collision among live records in practice. Shorter keys keep Redis small.
 */
const HANDLE_LENGTH = 16;
const RANDOM_BYTES = 32; // RFC 8628 §5.2: 256 bits of CSPRNG entropy
const DEVICE_CODE_RE = /^([A-Za-z0-9_-]{4})\.([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/;

/**
 * SHA-256 of `domain \0 value`, base64url. One-shot `crypto.hash` (Node
 * 20.12): a fifth of the cost of a Hash object, and a device authorization
 * takes four of these.
 */
function sha256(domain: string, value: string): string {
  return hash("sha256", `${domain}\0${value}`, "base64url");
}

/** The routing tag of a (canonical) user code. */
function routingTag(userCode: string): string {
  return sha256("handoff/tag", userCode).slice(0, TAG_LENGTH);
}

/** The handle of the user-code index for a canonical user code. */
export function userCodeHandle(userCode: string): CodeHandle {
  return {
    tag: routingTag(userCode),
    hash: sha256("handoff/user-code", userCode).slice(0, HANDLE_LENGTH),
  };
}

/**
 * Mints a device code for a user code: `<tag>.<expiry>.<43 chars of randomness>`.
 *
 * The tag lets the store find both keys in one hash slot. The expiry (Unix
 * seconds, base 36) lets a poll that arrives after the record's TTL removed it
 * be answered `expired_token` rather than `invalid_grant` (RFC 8628 §3.5). It
 * is rounded down, never up: a code must not claim to outlive its record, or a
 * poll in the gap (the record gone, the named second not over) would be
 * `invalid_grant`. It is not authenticated: forging it can only turn one error
 * into another.
 */
export function mintDeviceCode(userCode: string, expiresAtMs: number): string {
  return deviceCodeOf(routingTag(userCode), expiresAtMs);
}

function deviceCodeOf(tag: string, expiresAtMs: number): string {
  const exp = Math.floor(expiresAtMs / 1000).toString(36);
  return `${tag}.${exp}.${csprngBase64url(RANDOM_BYTES)}`;
}

/** A new request's device code and both store handles (`mintCodes`). */
export interface MintedCodes {
  readonly deviceCode: string;
  /** `parseDeviceCode(deviceCode).handle`. */
  readonly device: CodeHandle;
  /** `userCodeHandle(userCode)`. */
  readonly user: CodeHandle;
}

/**
 * `mintDeviceCode` with both handles, as a device authorization needs them:
 * the same values as `parseDeviceCode` and `userCodeHandle`, with the
 * routing tag hashed once and the fresh code not parsed back.
 */
export function mintCodes(userCode: string, expiresAtMs: number): MintedCodes {
  const tag = routingTag(userCode);
  const deviceCode = deviceCodeOf(tag, expiresAtMs);
  return {
    deviceCode,
    device: { tag, hash: sha256("handoff/device-code", deviceCode).slice(0, HANDLE_LENGTH) },
    user: { tag, hash: sha256("handoff/user-code", userCode).slice(0, HANDLE_LENGTH) },
  };
}

/**
 * Parses a device code into its store handle and expiry, or null if it is not
 * one of ours. `code` is the code itself: the key of its token set's names
 * (src/domain/issuance.ts); never stored or logged.
 */
export function parseDeviceCode(
  code: string,
): { handle: CodeHandle; expiresAtMs: number; code: string } | null {
  const m = DEVICE_CODE_RE.exec(code);
  if (!m) return null;
  const [, tag, exp] = m as unknown as [string, string, string];
  return {
    handle: {
      tag,
      hash: sha256("handoff/device-code", code).slice(0, HANDLE_LENGTH),
    },
    expiresAtMs: Number.parseInt(exp, 36) * 1000,
    code,
  };
}
