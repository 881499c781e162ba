/** The Redis device store: dual keys in one hash slot, every transition one Lua script. */
import type { Cluster, Redis } from "ioredis";
import type { DeviceAuthorization, DeviceStatus } from "../domain/device-authorization.js";
import type { CodeHandle } from "../domain/device-code.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { DecideOutcome, Decision, PacingPolicy, PollOutcome } from "../domain/transitions.js";
import type { DeviceStore } from "./device-store.js";
import { CREATE, DECIDE, FIND, POLL } from "./redis-scripts.js";

type Reply = Array<string | number>;

/** The scripts as ioredis custom commands (EVALSHA with EVAL fallback). */
interface ScriptCommands {
  handoffCreate(
    userKey: string,
    recordKey: string,
    ...args: Array<string | number>
  ): Promise<number>;
  handoffPoll(recordKey: string, ...args: Array<string | number>): Promise<Reply>;
  handoffFind(userKey: string, ...args: Array<string | number>): Promise<string[]>;
  handoffDecide(userKey: string, ...args: Array<string | number>): Promise<Reply>;
}

const STATUS_CODE: Record<DeviceStatus, string> = {
  pending: "P",
  approved: "A",
  denied: "D",
  consumed: "C",
};
const STATUS_NAME: Record<string, DeviceStatus> = {
  P: "pending",
  A: "approved",
  D: "denied",
  C: "consumed",
};

/** Space-joined lists: scopes and absolute URIs never contain spaces. */
const join = (xs: readonly string[]) => xs.join(" ");
const split = (s: string | undefined) => (s ? s.split(" ") : []);

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

function encode(a: DeviceAuthorization): string[] {
  const fields = [
    "c", a.clientId,
    "s", join(a.scopes),
    "r", join(a.resources),
    "t", String(a.createdAt),
    "e", String(a.expiresAt),
    "i", String(a.interval),
    "p", String(a.lastPolledAt),
    "st", STATUS_CODE[a.status],
    "ip", a.ipAddress,
    "ua", a.userAgent,
  ]; // biome-ignore format: field/value pairs
  if (a.subject !== undefined) fields.push("u", a.subject);
  if (a.grantedScopes !== undefined) fields.push("g", join(a.grantedScopes));
  return fields;
}

function decode(flat: Reply, offset = 0): DeviceAuthorization {
  const h: Record<string, string> = {};
  for (let i = offset; i + 1 < flat.length; i += 2) h[String(flat[i])] = String(flat[i + 1]);
  return {
    clientId: h.c ?? "",
    scopes: split(h.s),
    resources: split(h.r),
    createdAt: Number(h.t),
    expiresAt: Number(h.e),
    interval: Number(h.i),
    lastPolledAt: Number(h.p),
    status: STATUS_NAME[h.st ?? ""] ?? "pending",
    ipAddress: h.ip ?? "",
    userAgent: h.ua ?? "",
    ...(h.u === undefined ? {} : { subject: h.u }),
    ...(h.g === undefined ? {} : { grantedScopes: split(h.g) }),
  };
}

/** Turns a connection or server failure into the RFC's `temporarily_unavailable`. */
async function guarded<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (cause) {
    throw new OAuthError("temporarily_unavailable", "the state store is unavailable", { cause });
  }
}

/** A DeviceStore on one Redis or a Redis Cluster (any ioredis client). */
export class RedisDeviceStore implements DeviceStore {
  private readonly cmd: ScriptCommands;
  private readonly keys: DeviceKeys;

  constructor(
    private readonly client: Redis | Cluster,
    options: { keyPrefix?: string } = {},
  ) {
    this.keys = new DeviceKeys(options.keyPrefix);
    client.defineCommand("handoffCreate", { numberOfKeys: 2, lua: CREATE });
    client.defineCommand("handoffPoll", { numberOfKeys: 1, lua: POLL });
    client.defineCommand("handoffFind", { numberOfKeys: 1, lua: FIND });
    client.defineCommand("handoffDecide", { numberOfKeys: 1, lua: DECIDE });
    this.cmd = client as unknown as ScriptCommands;
  }

  async create(device: CodeHandle, user: CodeHandle, a: DeviceAuthorization): Promise<boolean> {
    const created = await guarded(
      this.cmd.handoffCreate(
        this.keys.userCode(user),
        this.keys.record(device),
        a.expiresAt,
        device.hash,
        ...encode(a),
      ),
    );
    return created === 1;
  }

  async poll(
    device: CodeHandle,
    clientId: string,
    now: number,
    pacing: PacingPolicy,
  ): Promise<PollOutcome> {
    const r = await guarded(
      this.cmd.handoffPoll(
        this.keys.record(device),
        clientId,
        now,
        pacing.minGapMs,
        pacing.stepSeconds,
      ),
    );
    const kind = String(r[0]);
    switch (kind) {
      case "pending":
      case "slow_down":
        return { kind, interval: Number(r[1]) };
      case "issued":
        return {
          kind,
          grant: {
            clientId,
            subject: String(r[1]),
            scopes: split(String(r[2])),
            resources: split(String(r[3])),
          },
        };
      case "unknown":
      case "wrong_client":
      case "expired":
      case "denied":
      case "consumed":
        return { kind };
      default:
        throw new OAuthError("temporarily_unavailable", `unexpected store reply ${kind}`);
    }
  }

  async findByUserCode(user: CodeHandle, now: number): Promise<DeviceAuthorization | null> {
    const flat = await guarded(
      this.cmd.handoffFind(this.keys.userCode(user), this.keys.recordPrefix(user.tag), now),
    );
    return flat.length === 0 ? null : decode(flat);
  }

  async decide(user: CodeHandle, d: Decision, now: number): Promise<DecideOutcome> {
    const r = await guarded(
      this.cmd.handoffDecide(
        this.keys.userCode(user),
        this.keys.recordPrefix(user.tag),
        now,
        d.approve ? "A" : "D",
        d.subject,
        d.approve ? join(d.grantedScopes) : "",
      ),
    );
    switch (String(r[0])) {
      case "decided":
        return { kind: "decided", authorization: decode(r, 1) };
      case "already_decided":
        return { kind: "already_decided", status: STATUS_NAME[String(r[1])] ?? "pending" };
      default:
        return { kind: "not_found" };
    }
  }

  async ping(): Promise<void> {
    await guarded(this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
