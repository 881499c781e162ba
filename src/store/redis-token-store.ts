/** The Redis token store: a family's keys share one hash slot; every transition is one Lua script. */
import type { GrantOrigin } from "../domain/grant-origin.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { IndexCursor, IndexPage } from "../domain/ports/creation-index.js";
import {
  type ConnectedGrant,
  DEFAULT_MAX_PER_SUBJECT,
  type FamilyGrant,
  type IssuedAccessToken,
  type OperatorRevokeOutcome,
  type OwnerRevokeOutcome,
  type RefreshFamily,
  type RevokeOutcome,
  type RotateOutcome,
  type Rotation,
  type TokenStore,
} from "../domain/ports/token-store.js";
import { jtiTag } from "../domain/refresh-token.js";
import { SEPARATOR } from "./device-record-codec.js";
import { scriptCommands } from "./lua-script.js";
import type { RedisConnection } from "./redis-connection.js";
import { readCreationIndex } from "./redis-creation-index.js";
import { INDEX_BY_CREATION, REVOKE_BY_ID } from "./redis-operator-scripts.js";
import {
  CREATE_FAMILY,
  INDEX_FAMILY,
  INSPECT,
  REVOKE_FAMILY,
  REVOKE_OWNED,
  ROTATE,
} from "./redis-token-scripts.js";

type Reply = string[];

/** The scripts as ioredis custom commands (EVALSHA with EVAL fallback). */
interface ScriptCommands {
  handoffFamilyCreate(
    key: string,
    onceKey: string,
    ...args: Array<string | number>
  ): Promise<number>;
  handoffFamilyRotate(key: string, ...args: Array<string | number>): Promise<Reply>;
  handoffFamilyRevoke(key: string, ...args: Array<string | number>): Promise<Reply>;
  handoffFamilyInspect(key: string, ...args: Array<string | number>): Promise<Reply>;
  handoffSubjectIndex(key: string, ...args: Array<string | number>): Promise<number>;
  handoffFamilyRevokeOwned(key: string, ...args: Array<string | number>): Promise<Reply>;
  handoffFamilyRevokeById(key: string, ...args: Array<string | number>): Promise<Reply>;
  handoffCreationIndex(key: string, ...args: Array<string | number>): Promise<number>;
}

/** Space-joined lists: scopes and absolute URIs never contain spaces. */
const join = (xs: readonly string[]) => xs.join(" ");
const split = (s: string | undefined) => (s ? s.split(" ") : []);

/** The family fields a listing reads: the client, then what `grantOf` takes. */
const GRANT_FIELDS = ["c", "u", "s", "r", "t", "ae", "it", "ie", "o"];

/**
 * The grant's origin as one field `o`: requester address, user agent and,
 * when known, the approver's address, joined by U+001F (none of them holds a
 * control character: `grantOrigin`). A family written before it has no `o`.
 */
export function encodeOrigin(o: GrantOrigin): string {
  const fields = [o.requesterAddress, o.requesterUserAgent];
  if (o.approverAddress !== undefined) fields.push(o.approverAddress);
  return fields.join(SEPARATOR);
}

export function decodeOrigin(packed: string | null | undefined): GrantOrigin | undefined {
  if (packed === null || packed === undefined || packed === "") return undefined;
  const [requesterAddress = "", requesterUserAgent = "", approverAddress] = packed.split(SEPARATOR);
  return {
    requesterAddress,
    requesterUserAgent,
    ...(approverAddress ? { approverAddress } : {}),
  };
}

/** Key names; `prefix` lets several deployments share one Redis. */
export class TokenKeys {
  constructor(private readonly prefix = "") {}
  family(familyId: string): string {
    return `${this.prefix}token:family:{${familyId}}`;
  }
  /** Marks the family id as created (see CREATE_FAMILY); same slot as the family. */
  once(familyId: string): string {
    return `${this.family(familyId)}:once`;
  }
  /** The subject's index of family ids (its own slot; see INDEX_FAMILY). */
  subject(subject: string): string {
    return `${this.prefix}token:subject:{${subject}}`;
  }
  /** The client's index of family ids (its own slot; see redis-operator-scripts.ts). */
  client(clientId: string): string {
    return `${this.prefix}token:client:{${clientId}}`;
  }
  /** Everything up to the `jti`; the tag is the jti's own (the family id for family tokens). */
  revokedPrefix(tag: string): string {
    return `${this.prefix}token:revoked:{${tag}}:`;
  }
  revoked(jti: string): string {
    return this.revokedPrefix(jtiTag(jti) ?? jti) + jti;
  }
}

/** Pairs of `jti exp` from a script reply, after `offset`. */
function tokensOf(r: Reply, offset: number): IssuedAccessToken[] {
  const out: IssuedAccessToken[] = [];
  for (let i = offset; i + 1 < r.length; i += 2) {
    out.push({ jti: String(r[i]), expiresAt: Number(r[i + 1]) });
  }
  return out;
}

/** {subject, scopes, resources, created, absolute, issued, idle, origin} from `offset`. */
function grantOf(clientId: string, r: Reply, offset: number): FamilyGrant {
  const origin = decodeOrigin(r[offset + 7]);
  return {
    clientId,
    subject: String(r[offset]),
    scopes: split(r[offset + 1]),
    resources: split(r[offset + 2]),
    createdAt: Number(r[offset + 3]),
    absoluteExpiresAt: Number(r[offset + 4]),
    issuedAt: Number(r[offset + 5]),
    idleExpiresAt: Number(r[offset + 6]),
    ...(origin === undefined ? {} : { origin }),
  };
}

/** A TokenStore on one Redis or a Redis Cluster; every call within the connection's deadline. */
export class RedisTokenStore implements TokenStore {
  private readonly cmd: ScriptCommands;
  private readonly keys: TokenKeys;
  private readonly maxPerSubject: number;

  constructor(
    private readonly redis: RedisConnection,
    options: { keyPrefix?: string; maxPerSubject?: number } = {},
  ) {
    this.keys = new TokenKeys(options.keyPrefix);
    this.maxPerSubject = options.maxPerSubject ?? DEFAULT_MAX_PER_SUBJECT;
    const { client } = redis;
    this.cmd = scriptCommands(client, {
      handoffFamilyCreate: { numberOfKeys: 2, lua: CREATE_FAMILY },
      handoffFamilyRotate: { numberOfKeys: 1, lua: ROTATE },
      handoffFamilyRevoke: { numberOfKeys: 1, lua: REVOKE_FAMILY },
      handoffFamilyInspect: { numberOfKeys: 1, lua: INSPECT },
      handoffSubjectIndex: { numberOfKeys: 1, lua: INDEX_FAMILY },
      handoffFamilyRevokeOwned: { numberOfKeys: 1, lua: REVOKE_OWNED },
      handoffFamilyRevokeById: { numberOfKeys: 1, lua: REVOKE_BY_ID },
      handoffCreationIndex: { numberOfKeys: 1, lua: INDEX_BY_CREATION },
    }) as unknown as ScriptCommands;
  }

  async createFamily(
    familyId: string,
    f: RefreshFamily,
    options: { readonly onceUntil?: number } = {},
  ): Promise<void> {
    const fields: Array<string | number> = [
      "c", f.clientId,
      "u", f.subject,
      "s", join(f.scopes),
      "r", join(f.resources),
      "t", f.createdAt,
      "ae", f.absoluteExpiresAt,
      "it", f.issuedAt,
      "ie", f.idleExpiresAt,
      "cur", f.currentHash,
      "n", 0,
      "j", f.accessTokens.flatMap((t) => [t.jti, t.expiresAt]).join(" "),
      ...(f.origin === undefined ? [] : ["o", encodeOrigin(f.origin)]),
    ]; // biome-ignore format: field/value pairs
    await this.redis.guardDurable(this.keys.family(familyId), () =>
      this.cmd.handoffFamilyCreate(
        this.keys.family(familyId),
        this.keys.once(familyId),
        f.idleExpiresAt,
        options.onceUntil ?? 0,
        ...fields,
      ),
    );
    // The index is in the subject's slot: its own step after the family's. A
    // crash between the two leaves a family unlisted (its tokens still work),
    // never a listed family that does not exist.
    await this.redis.guard(() =>
      this.cmd.handoffSubjectIndex(
        this.keys.subject(f.subject),
        familyId,
        f.createdAt,
        f.absoluteExpiresAt,
        this.maxPerSubject,
      ),
    );
    // The client's index, in the client's slot: best effort, a missed entry
    // only leaves the family out of the operators' listing.
    await this.redis
      .guard(() =>
        this.cmd.handoffCreationIndex(
          this.keys.client(f.clientId),
          familyId,
          f.createdAt,
          f.absoluteExpiresAt,
        ),
      )
      .catch(() => undefined);
  }

  async listByClient(
    clientId: string,
    now: number,
    limit: number,
    after?: IndexCursor,
  ): Promise<IndexPage<ConnectedGrant>> {
    return readCreationIndex(this.redis, this.keys.client(clientId), limit, after, (ids) =>
      // One read per family: each is in its own slot on a cluster.
      Promise.all(
        ids.map(async (id): Promise<ConnectedGrant | undefined> => {
          const r = await this.redis.guard(() =>
            this.redis.client.hmget(this.keys.family(id), ...GRANT_FIELDS),
          );
          if (r[0] === null || r[0] !== clientId) return undefined;
          const g = grantOf(clientId, r as Reply, 1);
          if (Math.min(g.idleExpiresAt, g.absoluteExpiresAt) <= now) return undefined;
          return { familyId: id, ...g };
        }),
      ),
    );
  }

  async revokeFamilyById(familyId: string, now: number): Promise<OperatorRevokeOutcome> {
    const reply = await this.redis.guardDurable(this.keys.family(familyId), () =>
      this.cmd.handoffFamilyRevokeById(
        this.keys.family(familyId),
        now,
        this.keys.revokedPrefix(familyId),
      ),
    );
    if (String(reply[0]) !== "revoked") return { kind: "not_found" };
    const [subject, clientId] = [String(reply[1]), String(reply[2])];
    // The indexes prune on read anyway; removing the entries now is a courtesy.
    await Promise.all([
      this.redis.guard(() => this.redis.client.zrem(this.keys.subject(subject), familyId)),
      this.redis.guard(() => this.redis.client.zrem(this.keys.client(clientId), familyId)),
    ]).catch(() => undefined);
    return { kind: "revoked", clientId, subject, revoked: tokensOf(reply, 3) };
  }

  async listBySubject(subject: string, now: number, limit: number): Promise<ConnectedGrant[]> {
    const index = this.keys.subject(subject);
    const ids = await this.redis.guard(() => this.redis.client.zrevrange(index, 0, -1));
    // One read per family: each is in its own slot on a cluster.
    const rows = await Promise.all(
      ids.map((id) =>
        this.redis.guard(() => this.redis.client.hmget(this.keys.family(id), ...GRANT_FIELDS)),
      ),
    );
    const out: ConnectedGrant[] = [];
    const stale: string[] = [];
    rows.forEach((r, i) => {
      const id = ids[i] as string;
      const g = r[0] === null ? null : grantOf(String(r[0]), r as Reply, 1);
      if (
        g === null ||
        g.subject !== subject ||
        Math.min(g.idleExpiresAt, g.absoluteExpiresAt) <= now
      ) {
        stale.push(id);
      } else if (out.length < limit) out.push({ familyId: id, ...g });
    });
    if (stale.length > 0) await this.redis.guard(() => this.redis.client.zrem(index, ...stale));
    return out;
  }

  async revokeFamilyOfSubject(
    familyId: string,
    subject: string,
    now: number,
  ): Promise<OwnerRevokeOutcome> {
    const reply = await this.redis.guardDurable(this.keys.family(familyId), () =>
      this.cmd.handoffFamilyRevokeOwned(
        this.keys.family(familyId),
        subject,
        now,
        this.keys.revokedPrefix(familyId),
      ),
    );
    if (String(reply[0]) !== "revoked") return { kind: "not_found" };
    await this.redis.guard(() => this.redis.client.zrem(this.keys.subject(subject), familyId));
    return { kind: "revoked", clientId: String(reply[1]), revoked: tokensOf(reply, 2) };
  }

  async rotate(familyId: string, r: Rotation): Promise<RotateOutcome> {
    const reply = await this.redis.guardDurable(this.keys.family(familyId), () =>
      this.cmd.handoffFamilyRotate(
        this.keys.family(familyId),
        r.presentedHash,
        r.nextHash,
        r.clientId,
        r.now,
        r.accessToken.jti,
        r.accessToken.expiresAt,
        r.idleTtlMs,
        r.keepRotated,
        this.keys.revokedPrefix(familyId),
      ),
    );
    const kind = String(reply[0]);
    switch (kind) {
      case "unknown":
      case "expired":
      case "wrong_client":
        return { kind };
      case "reused":
        return { kind, revoked: tokensOf(reply, 1) };
      case "rotated":
        return { kind, family: grantOf(r.clientId, reply, 1) };
      default:
        throw new OAuthError("temporarily_unavailable", `unexpected store reply ${kind}`);
    }
  }

  async revokeFamily(
    familyId: string,
    presentedHash: string,
    clientId: string | undefined,
    now: number,
  ): Promise<RevokeOutcome> {
    const reply = await this.redis.guardDurable(this.keys.family(familyId), () =>
      this.cmd.handoffFamilyRevoke(
        this.keys.family(familyId),
        presentedHash,
        clientId ?? "",
        now,
        this.keys.revokedPrefix(familyId),
      ),
    );
    const kind = String(reply[0]);
    if (kind === "revoked") return { kind, revoked: tokensOf(reply, 1) };
    return { kind: kind === "wrong_client" ? "wrong_client" : "not_found" };
  }

  async inspect(familyId: string, presentedHash: string, now: number): Promise<FamilyGrant | null> {
    const r = await this.redis.guard(() =>
      this.cmd.handoffFamilyInspect(this.keys.family(familyId), presentedHash, now),
    );
    return r.length === 0 ? null : grantOf(String(r[0]), r, 1);
  }

  async revokeAccessToken(token: IssuedAccessToken): Promise<void> {
    const { jti, expiresAt } = token;
    await this.redis.guardDurable(this.keys.revoked(jti), () =>
      this.redis.client.set(this.keys.revoked(jti), String(expiresAt), "PXAT", expiresAt),
    );
  }

  async isAccessTokenRevoked(jti: string, now: number): Promise<boolean> {
    const until = await this.redis.guard(() => this.redis.client.get(this.keys.revoked(jti)));
    return until !== null && Number(until) > now;
  }

  async close(): Promise<void> {}
}
