/** Signing keys for access tokens: loading a private JWK set, generating dev keys, publishing JWKS. */
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";

/** RFC 9068: ES256 by default, RS256 available. */
export type SigningAlgorithm = "ES256" | "RS256";
/** Every algorithm a key may use, for validation. */
export const SIGNING_ALGORITHMS = ["ES256", "RS256"] as const satisfies readonly SigningAlgorithm[];

/**
 * The private JWK member that retires a key: an RFC 3339 date-time or Unix
 * seconds. A retired key never signs; it stays published (and accepted by
 * introspection) until the tokens it signed have expired.
 */
export const RETIRED_AT_MEMBER = "handoff_retired_at";

/** One key: the private half signs, the public half is published in the JWKS. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
  /** Epoch ms when the key stopped signing; absent for an active key. */
  readonly retiredAt?: number;
}

type KeyList = readonly [SigningKey, ...SigningKey[]];

/**
 * The keys in service. The first key that is not retired signs (RFC 9068
 * §2.1); every active key is published, so an operator can publish a new key
 * (listed after the signing one) before it signs; a retired key is published
 * for as long as a token it signed can live. `replace` swaps the whole set at
 * once (key rotation without restart).
 */
export class KeyRing {
  private list!: KeyList;
  private signing!: SigningKey;

  constructor(keys: KeyList) {
    this.replace(keys);
  }

  /** Every key loaded, retired ones included. */
  get keys(): KeyList {
    return this.list;
  }

  /** The key that signs new tokens. */
  get current(): SigningKey {
    return this.signing;
  }

  /** All loaded public keys (compatibility; the endpoints use `publishedJwks`). */
  get jwks(): { keys: JWK[] } {
    return { keys: this.list.map((k) => k.publicJwk) };
  }

  /** Installs a new key set; throws, keeping the old set, if no key may sign. */
  replace(keys: KeyList): void {
    const signing = keys.find((k) => k.retiredAt === undefined);
    if (signing === undefined) throw new Error("signing keys: every key is retired; none can sign");
    const kids = new Set(keys.map((k) => k.kid));
    if (kids.size !== keys.length) throw new Error("signing keys: duplicate kid");
    this.list = keys;
    this.signing = signing;
  }

  /**
   * The keys a verifier must know at `now`: active keys, and retired keys
   * until `maxTokenLifeMs` after retirement (when the last token they signed
   * has expired).
   */
  published(now: number, maxTokenLifeMs: number): SigningKey[] {
    return this.list.filter((k) => k.retiredAt === undefined || k.retiredAt + maxTokenLifeMs > now);
  }

  /** The JWKS document (RFC 7517 §5) of `published`. */
  publishedJwks(now: number, maxTokenLifeMs: number): { keys: JWK[] } {
    return { keys: this.published(now, maxTokenLifeMs).map((k) => k.publicJwk) };
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
  return {
    kid,
    alg,
    privateKey: privateKey as CryptoKey,
    publicKey: publicKey as CryptoKey,
    publicJwk: publicPart(jwk, kid, alg),
  };
}

/** Reads `handoff_retired_at`: RFC 3339 text or Unix seconds → epoch ms. */
function retiredAtOf(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined;
  const ms =
    typeof value === "number"
      ? value * 1000
      : typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)
        ? Date.parse(value)
        : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new Error(
      `${where}: "${RETIRED_AT_MEMBER}" must be an RFC 3339 date-time or Unix seconds`,
    );
  }
  return ms;
}

/**
 * Parses a private JWK set (`{"keys":[…]}`). Each key needs `kid`, `alg`
 * (ES256 or RS256) and its private part, and may carry `handoff_retired_at`.
 * Anything else is refused with a message that names the key, never its
 * material.
 */
export async function parseSigningKeys(json: string): Promise<KeyList> {
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
    const jwk = raw as JWK & { [RETIRED_AT_MEMBER]?: unknown };
    const where = `signing keys: key #${i}${typeof jwk.kid === "string" ? ` (kid ${jwk.kid})` : ""}`;
    if (typeof jwk.kid !== "string" || jwk.kid === "") throw new Error(`${where}: missing "kid"`);
    const alg = SIGNING_ALGORITHMS.find((a) => a === jwk.alg);
    if (alg === undefined) throw new Error(`${where}: "alg" must be ES256 or RS256`);
    if (jwk.d === undefined) throw new Error(`${where}: not a private key (no "d")`);
    if (keys.some((k) => k.kid === jwk.kid)) throw new Error(`${where}: duplicate kid`);
    const retiredAt = retiredAtOf(jwk[RETIRED_AT_MEMBER], where);
    const publicJwk = publicPart(jwk, jwk.kid, alg);
    let privateKey: CryptoKey;
    let publicKey: CryptoKey;
    try {
      const { [RETIRED_AT_MEMBER]: _, ...material } = jwk;
      privateKey = (await importJWK(material, alg)) as CryptoKey;
      publicKey = (await importJWK(publicJwk, alg)) as CryptoKey;
    } catch (e) {
      throw new Error(`${where}: cannot be imported as ${alg} (${(e as Error).message})`);
    }
    keys.push({
      kid: jwk.kid,
      alg,
      privateKey,
      publicKey,
      publicJwk,
      ...(retiredAt === undefined ? {} : { retiredAt }),
    });
  }
  return keys as unknown as KeyList;
}

/** Loads a private JWK set into a key ring (see `parseSigningKeys`). */
export async function loadSigningKeys(json: string): Promise<KeyRing> {
  return new KeyRing(await parseSigningKeys(json));
}
