/** The Redis authorization code store: one hash per code, every transition one Lua script. */
import type {
  AttachOutcome,
  AuthorizationCodeRecord,
  RedeemOutcome,
  Redemption,
} from "../domain/authorization-code.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { AuthorizationCodeStore } from "../domain/ports/authorization-code-store.js";
import { joinList, splitList } from "./device-record-codec.js";
import { scriptCommands } from "./lua-script.js";
import {
  ATTACH_CODE,
  CREATE_CODE,
  REDEEM_CODE,
  RELEASE_CODE,
} from "./redis-authorization-code-scripts.js";
import type { RedisConnection } from "./redis-connection.js";

type Reply = Array<string | number>;

/** The scripts as ioredis custom commands (EVALSHA with EVAL fallback). */
interface ScriptCommands {
  handoffCreateCode(key: string, ...args: Array<string | number>): Promise<number>;
  handoffRedeemCode(key: string, ...args: Array<string | number>): Promise<Reply>;
  handoffAttachCode(key: string, issued: string): Promise<string>;
  handoffReleaseCode(key: string): Promise<number>;
}

/** An AuthorizationCodeStore on one Redis or a Redis Cluster; every call within the connection's deadline. */
export class RedisAuthorizationCodeStore implements AuthorizationCodeStore {
  private readonly cmd: ScriptCommands;
  private readonly prefix: string;

  constructor(
    private readonly redis: RedisConnection,
    options: { keyPrefix?: string } = {},
  ) {
    const { client } = redis;
    this.prefix = `${options.keyPrefix ?? ""}authorization_code:`;
    this.cmd = scriptCommands(client, {
      handoffCreateCode: { numberOfKeys: 1, lua: CREATE_CODE },
      handoffRedeemCode: { numberOfKeys: 1, lua: REDEEM_CODE },
      handoffAttachCode: { numberOfKeys: 1, lua: ATTACH_CODE },
      handoffReleaseCode: { numberOfKeys: 1, lua: RELEASE_CODE },
    }) as unknown as ScriptCommands;
  }

  async create(handle: string, r: AuthorizationCodeRecord): Promise<boolean> {
    const created = await this.redis.guardDurable(this.prefix + handle, () =>
      this.cmd.handoffCreateCode(
        this.prefix + handle,
        r.expiresAt,
        ...["c", r.clientId, "r", r.redirectUri, "h", r.codeChallenge],
        ...["s", joinList(r.scopes), "x", joinList(r.resources), "u", r.subject],
        ...["t", r.createdAt, "e", r.expiresAt, "st", r.status === "redeemed" ? "R" : "I"],
        ...["i", r.issuedTokens, "p", r.replayed ? "1" : "0", "n", r.issuanceNonce ?? ""],
        // Written only when known: a record without it reads as before.
        ...(r.approverAddress ? ["ap", r.approverAddress] : []),
      ),
    );
    return created === 1;
  }

  async redeem(handle: string, d: Redemption): Promise<RedeemOutcome> {
    const r = await this.redis.guardDurable(
      this.prefix + handle,
      () =>
        this.cmd.handoffRedeemCode(
          this.prefix + handle,
          d.clientId,
          d.redirectUri,
          d.challenge,
          d.now,
          d.retainUntil,
          joinList(d.narrowTo),
          d.retry?.windowMs ?? 0,
          d.retry?.leaseMs ?? 0,
        ),
      (reply) => reply[0] === "redeemed" || reply[0] === "reissued",
    );
    const kind = String(r[0]);
    switch (kind) {
      case "redeemed":
      case "reissued": {
        const at = Number(r[5]);
        // "" or missing (a record from before the field, or a script of an
        // earlier instance's version): no approver address.
        const approverAddress = String(r[6] ?? "");
        return {
          kind,
          grant: {
            clientId: d.clientId,
            subject: String(r[1]),
            scopes: splitList(String(r[2])),
            resources: splitList(String(r[3])),
          },
          issuance: {
            nonce: String(r[4] ?? ""),
            issuedAt: at,
            retryUntil: at + (d.retry?.windowMs ?? 0),
          },
          ...(approverAddress === "" ? {} : { approverAddress }),
        };
      }
      case "replayed": {
        const [nonce, at] = [String(r[2] ?? ""), String(r[3] ?? "")];
        return {
          kind,
          issuedTokens: String(r[1] ?? ""),
          ...(nonce !== "" && at !== "" ? { issuance: { nonce, issuedAt: Number(at) } } : {}),
        };
      }
      case "unknown":
      case "wrong_client":
      case "expired":
      case "redirect_mismatch":
      case "verifier_mismatch":
      case "invalid_target":
        return { kind };
      default:
        throw new OAuthError("temporarily_unavailable", `unexpected store reply ${kind}`);
    }
  }

  async attach(handle: string, issuedTokens: string): Promise<AttachOutcome> {
    const r = await this.redis.guardDurable(this.prefix + handle, () =>
      this.cmd.handoffAttachCode(this.prefix + handle, issuedTokens),
    );
    return { kind: r === "replayed" ? "replayed" : "attached" };
  }

  async release(handle: string): Promise<void> {
    await this.redis.guard(() => this.cmd.handoffReleaseCode(this.prefix + handle));
  }

  async close(): Promise<void> {}
}
