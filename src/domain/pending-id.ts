/**
 * The id an operator sees for a pending device authorization (README
 * "Operator listings"): the store handle of its device code, sealed.
 *
 * The handle is a routing tag and a hash (./device-code.ts). The tag is 24
 * bits of a hash of the *user code* (both keys of a request share it, so
 * that they land in one Redis Cluster slot), and the user code has only
 * about 40 bits: an id that showed the tag would narrow a code to about
 * 50,000 candidates, which the guess limits (RFC 8628 §5.1,
 * docs/verification-page.md) no longer make hopeless. So the id is the
 * handle encrypted as one AES block under a key only the instances hold:
 * deterministic (the same request has the same id in every listing, on
 * every instance), reversible by the server, and without the key a random
 * 128-bit string. One block of a block cipher is a pseudo-random
 * permutation; with exactly one block and no padding there is no mode to
 * choose and nothing for ECB to leak.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import type { CodeHandle } from "./device-code.js";

/** The first byte of a sealed id: a forged or foreign id decrypts to another byte 255 times in 256. */
const VERSION = 1;
/** 1 version byte, 3 bytes of tag (4 base64url characters), 12 of hash (16). */
const BLOCK = 16;
const TAG_BYTES = 3;
const HASH_BYTES = 12;
const SEALED = /^[A-Za-z0-9_-]{22}$/;

/**
 * The sealing key. From the admin credential (HANDOFF_ADMIN_TOKEN), which
 * every instance shares and without which nothing can list or cancel:
 * derived for this one use, never the credential itself. Changing the
 * credential changes every id (list again). Without one, a random key.
 */
export function pendingIdKeyOf(adminToken: string | undefined): Buffer {
  return adminToken === undefined
    ? randomBytes(32)
    : createHmac("sha256", adminToken).update("handoff pending id v1").digest();
}

/** The id of a device-code handle (22 base64url characters). */
export function sealPendingId(key: Buffer, h: CodeHandle): string {
  const block = Buffer.concat([
    Buffer.of(VERSION),
    Buffer.from(h.tag, "base64url"),
    Buffer.from(h.hash, "base64url"),
  ]);
  const cipher = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(block), cipher.final()]).toString("base64url");
}

/** The handle an id names; null for anything this key did not seal. */
export function openPendingId(key: Buffer, id: string): CodeHandle | null {
  if (!SEALED.test(id)) return null;
  const sealed = Buffer.from(id, "base64url");
  // Only the one spelling this server writes (22 characters carry 4 spare bits).
  if (sealed.length !== BLOCK || sealed.toString("base64url") !== id) return null;
  const decipher = createDecipheriv("aes-256-ecb", key, null).setAutoPadding(false);
  const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
  if (block[0] !== VERSION) return null;
  return {
    tag: block.subarray(1, 1 + TAG_BYTES).toString("base64url"),
    hash: block.subarray(1 + TAG_BYTES, 1 + TAG_BYTES + HASH_BYTES).toString("base64url"),
  };
}
