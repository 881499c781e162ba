/** Signing keys for access tokens: loading a private JWK set, generating dev keys, publishing JWKS. */
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";

export type SigningAlgorithm = "ES256" | "RS256";
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["ES256", "RS256"];

/** One key: the private half signs, the public half is published in the JWKS. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/**
 * The keys in service. The first signs (J1: RFC 9068 §2.1); all are published
 * so a token signed by a key listed after it still verifies.
 */
export class KeyRing {
  readonly jwks: { keys: JWK[] };

  constructor(readonly keys: readonly [SigningKey, ...SigningKey[]]) {
    this.jwks = { keys: keys.map((k) => k.publicJwk) };
  }

  get current(): SigningKey {
    return this.keys[0];
  }
}

/** The public members only (RFC 7517/7518): never `d`, `p`, `q`, `dp`, `dq`, `qi`. */
function publicPart(jwk: JWK, kid: string, alg: SigningAlgorithm): JWK {
  const pub: Record<string, string> = { kid, alg, use: "sig" };
  for (const k of ["kty", "crv", "x", "y", "n", "e"] as const) {
    const v = jwk[k];
    if (typeof v === "string") pub[k] = v;
  }
  return pub as JWK;
}

/** Generates a key (development only: it dies with the process). `kid` is the RFC 7638 thumbprint. */
export async function generateSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, privateKey: privateKey as CryptoKey, publicJwk: publicPart(jwk, kid, alg) };
}

/**
 * Loads a private JWK set (`{"keys":[…]}`), newest first. Each key needs
 * `kid`, `alg` (ES256 or RS256) and its private part; anything else is refused
 * with a message that names the key, never its material.
 */
export async function loadSigningKeys(json: string): Promise<KeyRing> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error("signing keys: not valid JSON (expected a JWK set with private keys)");
  }
  const list = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(list) || list.length === 0)
    throw new Error('signing keys: expected {"keys": [ … ]} with at least one key');
  const keys: SigningKey[] = [];
  for (const [i, raw] of list.entries()) {
    const jwk = raw as JWK;
    const where = `signing keys: key #${i}${typeof jwk.kid === "string" ? ` (kid ${jwk.kid})` : ""}`;
    if (typeof jwk.kid !== "string" || jwk.kid === "") throw new Error(`${where}: missing "kid"`);
    const alg = SIGNING_ALGORITHMS.find((a) => a === jwk.alg);
    if (alg === undefined) throw new Error(`${where}: "alg" must be ES256 or RS256`);
    if (jwk.d === undefined) throw new Error(`${where}: not a private key (no "d")`);
    if (keys.some((k) => k.kid === jwk.kid)) throw new Error(`${where}: duplicate kid`);
    let privateKey: CryptoKey;
    try {
      privateKey = (await importJWK(jwk, alg)) as CryptoKey;
    } catch (e) {
      throw new Error(`${where}: cannot be imported as ${alg} (${(e as Error).message})`);
    }
    keys.push({ kid: jwk.kid, alg, privateKey, publicJwk: publicPart(jwk, jwk.kid, alg) });
  }
  return new KeyRing(keys as [SigningKey, ...SigningKey[]]);
}
