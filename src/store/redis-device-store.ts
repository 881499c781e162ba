/** The Redis device store: dual keys in one hash slot, every transition one Lua script. */
import { Redis } from "ioredis";
import type { DeviceAuthorization } from "../domain/device-authorization.js";
import type { CodeHandle } from "../domain/device-code.js";
import { grantOrigin } from "../domain/grant-origin.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { IndexCursor, IndexPage } from "../domain/ports/creation-index.js";
import {
  type ChargedCreate,
  type DecideOutcome,
  type Decision,
  type DeviceStore,
  NO_RETRY,
  type PacingPolicy,
  type PendingEntry,
  type PollOutcome,
  type RetryPolicy,
  type StepCharge,
} from "../domain/ports/device-store.js";
import {
  decodeRecord,
  encodeRecord,
  joinList,
  STATUS_NAME,
  splitList,
} from "./device-record-codec.js";
import { LuaScript, scriptCommands } from "./lua-script.js";
import { counterArgv, MAX_SLOTS_PER_STEP } from "./redis-attempt-counter.js";
import type { RedisConnection } from "./redis-connection.js";
import { CREATE_CHARGED, CREATE_INDEXED, DECIDE_BY_RECORD } from "./redis-operator-scripts.js";
import { type PendingEntryWrite, RedisPendingIndex } from "./redis-pending-index.js";
import { CONFIRM, CREATE, DECIDE, FIND, POLL, RELEASE } from "./redis-scripts.js";

type Reply = Array<string | number>;

/** CREATE_CHARGED: its keys are CREATE_INDEXED's four, then one per counter charged. */
const CHARGED_CREATE = new LuaScript(CREATE_CHARGED);

/** The scripts as commands (EVALSHA with EVAL fallback, lua-script.ts). */
interface ScriptCommands {
  handoffCreate(
    userKey: string,
    recordKey: string,
    ...args: Array<string | number>
  ): Promise<number>;
  handoffCreateIndexed(
    userKey: string,
    recordKey: string,
    bucketSet: string,
    bucket: string,
    ...args: Array<string | number>
  ): Promise<number>;
  handoffPoll(recordKey: string, ...args: Array<string | number>): Promise<Reply>;
  handoffFind(userKey: string, ...args: Array<string | number>): Promise<string | null>;
  handoffDecide(userKey: string, ...args: Array<string | number>): Promise<Reply>;
  handoffConfirm(recordKey: string): Promise<number>;
  handoffRelease(recordKey: string): Promise<number>;
  handoffDecideByRecord(recordKey: string, ...args: Array<string | number>): Promise<Reply>;
}

/** Key names; `prefix` lets several deployments share one Redis. */
export class DeviceKeys {
  constructor(private readonly prefix = "") {}
  record(h: CodeHandle): string {
    return `${this.recordPrefix(h.tag)}${h.hash}`;
  }
  recordPrefix(tag: string): string {
    return `${this.prefix}device:code:{${tag}}:`;
  }
  userCode(h: CodeHandle): string {
    return `${this.prefix}device:user_code:{${h.tag}}:${h.hash}`;
  }
}

/** A DeviceStore on one Redis or a Redis Cluster; every call within the connection's deadline. */
export class RedisDeviceStore implements DeviceStore {
  private readonly cmd: ScriptCommands;
  private readonly keys: DeviceKeys;
  private readonly pending: RedisPendingIndex;
  /**
   * One Redis, not a Cluster: every key is on the one server, so CREATE
   * writes the client's pending index too (CREATE_INDEXED), one round trip.
   */
  private readonly oneServer: boolean;
  /** One Redis: the quota charged in CREATE's own step (CREATE_CHARGED); absent on a Cluster. */
  readonly createCharged?: DeviceStore["createCharged"];

  constructor(
    private readonly redis: RedisConnection,
    options: { keyPrefix?: string } = {},
  ) {
    this.keys = new DeviceKeys(options.keyPrefix);
    this.pending = new RedisPendingIndex(redis, options.keyPrefix);
    const { client } = redis;
    this.oneServer = client instanceof Redis;
    this.cmd = scriptCommands(client, {
      handoffCreate: { numberOfKeys: 2, lua: CREATE },
      handoffCreateIndexed: { numberOfKeys: 4, lua: CREATE_INDEXED },
      handoffPoll: { numberOfKeys: 1, lua: POLL },
      handoffFind: { numberOfKeys: 1, lua: FIND },
      handoffDecide: { numberOfKeys: 1, lua: DECIDE },
      handoffConfirm: { numberOfKeys: 1, lua: CONFIRM },
      handoffRelease: { numberOfKeys: 1, lua: RELEASE },
      handoffDecideByRecord: { numberOfKeys: 1, lua: DECIDE_BY_RECORD },
    }) as unknown as ScriptCommands;
    if (this.oneServer) {
      this.createCharged = (device, user, a, charge) =>
        this.createAndCharge(device, user, a, charge);
    }
  }

  async create(device: CodeHandle, user: CodeHandle, a: DeviceAuthorization): Promise<boolean> {
    const record = this.keys.record(device);
    const entry = this.oneServer ? this.pending.entry(a.clientId, device, a.createdAt) : undefined;
    if (entry !== undefined) {
      const { keys, argv } = this.indexedCreate(device, user, a, entry);
      const created = await this.redis.guardDurable(record, () =>
        this.cmd.handoffCreateIndexed(...keys, ...argv),
      );
      return created === 1;
    }
    const created = await this.redis.guardDurable(record, () =>
      this.cmd.handoffCreate(
        this.keys.userCode(user),
        record,
        a.expiresAt,
        device.hash,
        encodeRecord(a),
      ),
    );
    if (created !== 1) return false;
    // On a Cluster the client's index is in the client's slot: its own step, best effort.
    if (!this.oneServer) await this.pending.add(a.clientId, device, a.createdAt, a.expiresAt);
    return true;
  }

  /** KEYS and ARGV of CREATE_INDEXED, which CREATE_CHARGED begins with. */
  private indexedCreate(
    device: CodeHandle,
    user: CodeHandle,
    a: DeviceAuthorization,
    entry: PendingEntryWrite,
  ) {
    return {
      keys: [this.keys.userCode(user), this.keys.record(device), entry.set, entry.bucket] as const,
      argv: [
        a.expiresAt,
        device.hash,
        encodeRecord(a),
        entry.entry,
        entry.id,
        entry.start,
        a.createdAt,
      ] as const,
    };
  }

  private async createAndCharge(
    device: CodeHandle,
    user: CodeHandle,
    a: DeviceAuthorization,
    { slots, now }: StepCharge,
  ): Promise<ChargedCreate> {
    if (slots.length === 0 || slots.length > MAX_SLOTS_PER_STEP) {
      throw new Error(`${slots.length} counters in one create step; 1 to ${MAX_SLOTS_PER_STEP}`);
    }
    const record = this.keys.record(device);
    // A handle of another shape than minted ones (only in tests) is not indexed: "" skips it.
    const entry = this.pending.entry(a.clientId, device, a.createdAt) ?? {
      set: record,
      bucket: record,
      entry: "",
      id: "",
      start: 0,
    };
    const { keys, argv } = this.indexedCreate(device, user, a, entry);
    const args = [...keys, ...slots.map((s) => s.key), ...argv, ...counterArgv(slots, now)];
    const [charged, created] = await this.redis.guardDurable(
      record,
      () =>
        CHARGED_CREATE.run(this.redis.client, keys.length + slots.length, args) as Promise<Reply>,
      (r) => Number(r[0]) === 1 && Number(r[1]) === 1,
    );
    if (Number(charged) !== 1) return { kind: "limited", retryAfterMs: Number(created) };
    return { kind: Number(created) === 1 ? "created" : "taken" };
  }

  async listPendingByClient(
    clientId: string,
    now: number,
    limit: number,
    after?: IndexCursor,
  ): Promise<IndexPage<PendingEntry>> {
    return this.pending.page(clientId, limit, after, (devices) =>
      // One read per record: each is in its own slot on a cluster.
      Promise.all(
        devices.map(async (device): Promise<PendingEntry | undefined> => {
          const packed = await this.redis.guard(() =>
            this.redis.client.get(this.keys.record(device)),
          );
          if (packed === null) return undefined;
          const a = decodeRecord(packed);
          if (a.status !== "pending" || a.expiresAt <= now || a.clientId !== clientId) {
            return undefined;
          }
          return { device, authorization: a };
        }),
      ),
    );
  }

  async decideByDevice(device: CodeHandle, d: Decision, now: number): Promise<DecideOutcome> {
    const r = await this.redis.guardDurable(this.keys.record(device), () =>
      this.cmd.handoffDecideByRecord(
        this.keys.record(device),
        now,
        d.approve ? "A" : "D",
        d.subject,
        d.approve ? joinList(d.grantedScopes) : "",
      ),
    );
    return decideOutcomeOf(r);
  }

  /** Both keys share the code's hash tag: one DEL, Cluster-safe. */
  async discard(device: CodeHandle, user: CodeHandle): Promise<void> {
    await this.redis.guard(() =>
      this.redis.client.del(this.keys.record(device), this.keys.userCode(user)),
    );
  }

  async poll(
    device: CodeHandle,
    clientId: string,
    now: number,
    pacing: PacingPolicy,
    narrowTo: readonly string[] = [],
    retry: RetryPolicy = NO_RETRY,
  ): Promise<PollOutcome> {
    const r = await this.redis.guardDurable(
      this.keys.record(device),
      () =>
        this.cmd.handoffPoll(
          this.keys.record(device),
          clientId,
          now,
          pacing.minGapMs,
          pacing.stepSeconds,
          joinList(narrowTo),
          retry.windowMs,
          retry.leaseMs,
        ),
      // The consumption, and a retry of it (its attempt stamp comes after the
      // consumption on this master, so its WAIT covers both: answering a
      // retry whose consumption is on no replica would acknowledge what a
      // failover can undo). Pacing stamps and refusals are not waited for.
      (reply) => reply[0] === "issued" || reply[0] === "reissued",
    );
    const kind = String(r[0]);
    switch (kind) {
      case "pending":
      case "slow_down":
        return { kind, interval: Number(r[1]) };
      case "issued":
      case "reissued": {
        const issuedAt = Number.parseInt(String(r[5]), 36);
        return {
          kind,
          grant: {
            clientId,
            subject: String(r[1]),
            scopes: splitList(String(r[2])),
            resources: splitList(String(r[3])),
            origin: grantOrigin(String(r[6] ?? ""), String(r[7] ?? ""), String(r[8] ?? "")),
          },
          issuance: {
            nonce: String(r[4] ?? ""),
            issuedAt,
            retryUntil: issuedAt + retry.windowMs,
          },
        };
      }
      case "unknown":
      case "wrong_client":
      case "expired":
      case "invalid_target":
      case "denied":
      case "consumed":
        return { kind };
      default:
        throw new OAuthError("temporarily_unavailable", `unexpected store reply ${kind}`);
    }
  }

  async confirm(device: CodeHandle): Promise<void> {
    await this.redis.guard(() => this.cmd.handoffConfirm(this.keys.record(device)));
  }

  async release(device: CodeHandle): Promise<void> {
    await this.redis.guard(() => this.cmd.handoffRelease(this.keys.record(device)));
  }

  async findByUserCode(user: CodeHandle, now: number): Promise<DeviceAuthorization | null> {
    const packed = await this.redis.guard(() =>
      this.cmd.handoffFind(this.keys.userCode(user), this.keys.recordPrefix(user.tag), now),
    );
    return packed === null ? null : decodeRecord(packed);
  }

  async decide(user: CodeHandle, d: Decision, now: number): Promise<DecideOutcome> {
    const r = await this.redis.guardDurable(this.keys.userCode(user), () =>
      this.cmd.handoffDecide(
        this.keys.userCode(user),
        this.keys.recordPrefix(user.tag),
        now,
        d.approve ? "A" : "D",
        d.subject,
        d.approve ? joinList(d.grantedScopes) : "",
        d.approverAddress ?? "",
      ),
    );
    return decideOutcomeOf(r);
  }

  async ping(): Promise<void> {
    await this.redis.guard(() => this.redis.client.ping());
  }

  async close(): Promise<void> {
    this.redis.close();
  }
}

/** The reply of DECIDE and DECIDE_BY_RECORD as the port's outcome. */
function decideOutcomeOf(r: Reply): DecideOutcome {
  switch (String(r[0])) {
    case "decided":
      return { kind: "decided", authorization: decodeRecord(String(r[1])) };
    case "already_decided":
      return {
        kind: "already_decided",
        status: STATUS_NAME[String(r[1])] ?? "pending",
        authorization: decodeRecord(String(r[2])),
      };
    default:
      return { kind: "not_found" };
  }
}
