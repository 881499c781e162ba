/** The Redis client store: a space's keys share one hash slot; every step is one Lua script. */
import type { Client } from "../domain/client.js";
import { OAuthError } from "../domain/oauth-error.js";
import type {
  ClientPage,
  ClientStore,
  PutMode,
  PutOutcome,
  StoredClient,
} from "../domain/ports/client-store.js";
import { scriptCommands } from "./lua-script.js";
import {
  DELETE_CLIENT,
  GET_CLIENT,
  LIST_CLIENTS,
  PUT_CLIENT,
  SET_ACTIVE,
} from "./redis-client-scripts.js";
import type { RedisConnection } from "./redis-connection.js";

type Fields = [string | null, string | null, string | null, string | null];

/** The scripts as ioredis custom commands (EVALSHA with EVAL fallback). */
interface ScriptCommands {
  handoffClientPut(...args: Array<string | number>): Promise<string>;
  handoffClientGet(...args: Array<string | number>): Promise<Fields | null>;
  handoffClientList(...args: Array<string | number>): Promise<Array<string | number>>;
  handoffClientDelete(...args: Array<string | number>): Promise<number>;
  handoffClientSetActive(...args: Array<string | number>): Promise<number>;
}

/** What the JSON field holds: everything but the fields scripts read or change. */
interface RecordJson {
  readonly client: Omit<Client, "active">;
  readonly createdAt: number;
  readonly metadata: Readonly<Record<string, string>>;
}

function decode(f: Fields): StoredClient {
  const r = JSON.parse(f[0] ?? "{}") as RecordJson;
  return {
    client: { ...r.client, active: f[1] === "1" },
    createdAt: r.createdAt,
    idleTtlMs: Number(f[2]),
    expiresAt: Number(f[3]),
    metadata: r.metadata,
  };
}

/**
 * A ClientStore on one Redis or a Redis Cluster, every call within the
 * connection's deadline. `space` names the hash tag
 * (`registered`, `document`), so two stores can share one Redis.
 */
export class RedisClientStore implements ClientStore {
  private readonly cmd: ScriptCommands;
  private readonly base: string;

  constructor(
    private readonly redis: RedisConnection,
    options: { keyPrefix?: string; space: string },
  ) {
    const { client } = redis;
    this.base = `${options.keyPrefix ?? ""}client:{${options.space}}:`;
    this.cmd = scriptCommands(client, {
      handoffClientPut: { numberOfKeys: 3, lua: PUT_CLIENT },
      handoffClientGet: { numberOfKeys: 3, lua: GET_CLIENT },
      handoffClientList: { numberOfKeys: 2, lua: LIST_CLIENTS },
      handoffClientDelete: { numberOfKeys: 3, lua: DELETE_CLIENT },
      handoffClientSetActive: { numberOfKeys: 1, lua: SET_ACTIVE },
    }) as unknown as ScriptCommands;
  }

  private keys(clientId: string): [string, string, string] {
    return [`${this.base}c:${clientId}`, `${this.base}ids`, `${this.base}exp`];
  }

  async put(s: StoredClient, mode: PutMode, maxExpiring: number): Promise<PutOutcome> {
    const { active, ...client } = s.client;
    const json: RecordJson = { client, createdAt: s.createdAt, metadata: s.metadata };
    const reply = await this.redis.guard(() =>
      this.cmd.handoffClientPut(
        ...this.keys(client.id),
        client.id,
        mode,
        JSON.stringify(json),
        active ? "1" : "0",
        s.idleTtlMs,
        s.expiresAt,
        Date.now(),
        maxExpiring,
        `${this.base}c:`,
      ),
    );
    if (reply === "stored" || reply === "exists" || reply === "missing" || reply === "full")
      return reply;
    throw new OAuthError("temporarily_unavailable", `unexpected store reply ${reply}`);
  }

  async get(clientId: string, now: number): Promise<StoredClient | undefined> {
    const f = await this.redis.guard(() =>
      this.cmd.handoffClientGet(...this.keys(clientId), clientId, now),
    );
    return f === null ? undefined : decode(f);
  }

  async list(after: string | undefined, limit: number, now: number): Promise<ClientPage> {
    const [, ids, exp] = this.keys("");
    const r = await this.redis.guard(() =>
      this.cmd.handoffClientList(ids, exp, `${this.base}c:`, after ?? "", limit, now),
    );
    const clients: StoredClient[] = [];
    const text = (x: string | number | undefined) => (x === undefined ? null : String(x));
    for (let i = 2; i + 4 < r.length; i += 5) {
      clients.push(decode([text(r[i + 1]), text(r[i + 2]), text(r[i + 3]), text(r[i + 4])]));
    }
    return Number(r[0]) === 1 ? { clients, next: String(r[1]) } : { clients };
  }

  async delete(clientId: string): Promise<boolean> {
    return (
      (await this.redis.guard(() =>
        this.cmd.handoffClientDelete(...this.keys(clientId), clientId),
      )) === 1
    );
  }

  async setDisabled(clientId: string, disabled: boolean): Promise<boolean> {
    const [record] = this.keys(clientId);
    return (
      (await this.redis.guard(() =>
        this.cmd.handoffClientSetActive(record, disabled ? "0" : "1"),
      )) === 1
    );
  }

  async close(): Promise<void> {}
}
