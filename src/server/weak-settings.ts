/**
 * What `handoff start` refuses or warns about beyond missing settings:
 * the published dev service token, a token with too
 * little entropy to be a secret, users files with the dev seed's password
 * or hashes weaker than `handoff users add` writes, an unparseable
 * HANDOFF_TRUST_PROXY, and the memory store. Each message names the setting.
 */
import { DEMO_USER, DEV_SERVICE_TOKEN } from "../config/dev-seed.js";
import { SCRYPT_COST, scryptCostOf, verifyScrypt } from "../domain/secret-hash.js";

/** Bits a bearer token must carry by the estimate below (a 32-byte random token has ~190). */
export const MIN_TOKEN_BITS = 128;

/**
 * A token's entropy as its length times the Shannon entropy of its own
 * characters: 32 × `a` scores 0, `abab…` 1 bit a character, `openssl rand
 * -base64 32` about 5. An estimate from one sample: it cannot see a
 * predictable sequence, but it catches repeated, short and tiny-alphabet ones.
 */
export function estimatedBits(token: string): number {
  const counts = new Map<string, number>();
  for (const ch of token) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  const n = [...token].length;
  let perChar = 0;
  for (const c of counts.values()) perChar -= (c / n) * Math.log2(c / n);
  return n * perChar;
}

/** Problems with the service token (and the metrics token) in production, each naming its setting. */
export function weakTokenProblems(tokens: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const [name, token] of Object.entries(tokens)) {
    if (token === undefined) continue;
    if (token === DEV_SERVICE_TOKEN) {
      problems.push(
        `${name}: is the published development token; generate one with: openssl rand -base64 32`,
      );
    } else if (estimatedBits(token) < MIN_TOKEN_BITS) {
      problems.push(
        `${name}: too predictable (about ${Math.floor(estimatedBits(token))} bits by character frequency, at least ${MIN_TOKEN_BITS} needed); generate one with: openssl rand -base64 32`,
      );
    }
  }
  return problems;
}

/**
 * The admin token must be a credential of its own: one shared with the
 * service token (which every internal caller holds) or the metrics scrape
 * would hand client administration to them.
 */
export function sharedAdminTokenProblems(
  admin: string | undefined,
  others: Record<string, string | undefined>,
): string[] {
  if (admin === undefined) return [];
  return Object.entries(others)
    .filter(([, v]) => v !== undefined && v === admin)
    .map(([name]) => `HANDOFF_ADMIN_TOKEN: is the same as ${name}; give it a token of its own`);
}

/**
 * Users `handoff start` refuses: the dev seed's password (`demo`, for any
 * user: one scrypt each, off the event loop, at start only), and hashes
 * cheaper than `handoff users add` writes. A short password cannot be seen
 * in its hash; `users add` is where that is refused.
 */
export async function weakUserProblems(
  users: readonly { readonly username: string; readonly passwordHash: string }[],
): Promise<string[]> {
  const found = await Promise.all(
    users.map(async (u) => {
      const cost = scryptCostOf(u.passwordHash) ?? 0;
      if (cost < SCRYPT_COST.N) {
        return `HANDOFF_USERS_FILE: ${u.username}'s hash is cheaper (N=${cost}) than \`handoff users add\` writes (N=${SCRYPT_COST.N}); set the password again with it`;
      }
      return (await verifyScrypt(DEMO_USER.password, u.passwordHash))
        ? `HANDOFF_USERS_FILE: ${u.username} has the development password "${DEMO_USER.password}"; set another with \`handoff users add ${u.username}\``
        : undefined;
    }),
  );
  return found.filter((p): p is string => p !== undefined);
}

/** HANDOFF_TRUST_PROXY must list addresses or CIDR ranges; `true` would believe anyone's X-Forwarded-For. */
export function trustProxyProblem(value: string | undefined, check: (entries: string[]) => void) {
  if (value === undefined) return undefined;
  try {
    check(value.split(",").map((p) => p.trim()));
    return undefined;
  } catch (e) {
    const hint = /^(true|yes|1|\*)$/i.test(value.trim())
      ? " (list the proxies' addresses: trusting every peer would let any client write its own address in X-Forwarded-For)"
      : "";
    return `HANDOFF_TRUST_PROXY: ${(e as Error).message}${hint}`;
  }
}
