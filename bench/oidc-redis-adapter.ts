/**
 * A small Redis adapter for node-oidc-provider (it ships none): one JSON
 * string per model instance with the instance's TTL, plus the indexes the
 * device flow needs (user code → device code, uid → session) and a set per
 * grant for revokeByGrantId. Written for the bench; enough for the device
 * flow and refresh, not a production adapter.
 */
import type { Redis } from "ioredis";

/** What the provider stores (see its Adapter interface). */
type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

/** Builds the adapter class node-oidc-provider instantiates per model name. */
export function redisAdapter(redis: Redis) {
  return class RedisOidcAdapter {
    constructor(private readonly name: string) {}

    private key(id: string): string {
      return `oidc:${this.name}:${id}`;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      const key = this.key(id);
      const m = redis.multi();
      if (expiresIn) m.set(key, JSON.stringify(payload), "EX", expiresIn);
      else m.set(key, JSON.stringify(payload));
      if (payload.grantId) {
        const grant = `oidc:grant:${payload.grantId}`;
        m.sadd(grant, key);
        if (expiresIn) m.expire(grant, expiresIn, "GT").expire(grant, expiresIn, "NX");
      }
      if (payload.userCode) {
        const index = `oidc:userCode:${payload.userCode}`;
        if (expiresIn) m.set(index, id, "EX", expiresIn);
        else m.set(index, id);
      }
      if (payload.uid) {
        const index = `oidc:uid:${payload.uid}`;
        if (expiresIn) m.set(index, id, "EX", expiresIn);
        else m.set(index, id);
      }
      await m.exec();
    }

    async find(id: string): Promise<Payload | undefined> {
      const text = await redis.get(this.key(id));
      return text === null ? undefined : (JSON.parse(text) as Payload);
    }

    async findByUserCode(userCode: string): Promise<Payload | undefined> {
      const id = await redis.get(`oidc:userCode:${userCode}`);
      return id === null ? undefined : this.find(id);
    }

    async findByUid(uid: string): Promise<Payload | undefined> {
      const id = await redis.get(`oidc:uid:${uid}`);
      return id === null ? undefined : this.find(id);
    }

    async consume(id: string): Promise<void> {
      const found = await this.find(id);
      if (found === undefined) return;
      found.consumed = Math.floor(Date.now() / 1000);
      await redis.set(this.key(id), JSON.stringify(found), "KEEPTTL");
    }

    async destroy(id: string): Promise<void> {
      await redis.del(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const grant = `oidc:grant:${grantId}`;
      const keys = await redis.smembers(grant);
      await redis.del(grant, ...keys);
    }
  };
}
