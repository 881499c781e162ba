/** `handoff keys generate` and `handoff secrets generate|hash`: material for the production files. */
import { randomBytes } from "node:crypto";
import { exportJWK } from "jose";
import { hashScrypt, hashSecretFast } from "../domain/secret-hash.js";
import { generateSigningKey } from "../tokens/signing-keys.js";

/** A new private JWK set for HANDOFF_SIGNING_KEYS_FILE. */
export async function keysGenerate(arg: string | undefined): Promise<string> {
  const alg = arg === "RS256" ? "RS256" : "ES256";
  const key = await generateSigningKey(alg);
  const jwk = { ...(await exportJWK(key.privateKey)), kid: key.kid, alg, use: "sig" };
  return `${JSON.stringify({ keys: [jwk] }, null, 2)}\n`;
}

/** A new random client secret and its fast hash, for the clients file. */
export function secretsGenerate(): string {
  const secret = randomBytes(32).toString("base64url");
  return `client_secret:      ${secret}\nclient_secret_hash: ${hashSecretFast(secret)}\n`;
}

/** The scrypt hash of the secret read on stdin. */
export async function secretsHash(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const secret = Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  return `${await hashScrypt(secret)}\n`;
}
