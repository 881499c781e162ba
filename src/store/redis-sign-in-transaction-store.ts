/** The Redis sign-in transaction store: one key per sign-in in progress, expiring with it. */
import type {
  SaveOutcome,
  SignInTransaction,
  SignInTransactionStore,
} from "../domain/ports/sign-in-transaction-store.js";
import type { RedisConnection } from "./redis-connection.js";

/**
 * Transactions at `<prefix>signin-tx:<hash of id>` as JSON. `take` is GETDEL
 * (Redis 6.2+): one command, so two callbacks racing on one transaction
 * cannot both find it, on any instance.
 */
export class RedisSignInTransactionStore implements SignInTransactionStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keyPrefix = "",
  ) {}

  async save(idHash: string, tx: SignInTransaction): Promise<SaveOutcome> {
    const ttl = Math.max(1, tx.expiresAt - Date.now());
    await this.redis.guard(() =>
      this.redis.client.set(this.key(idHash), JSON.stringify(tx), "PX", ttl),
    );
    return "saved";
  }

  async take(idHash: string, now: number): Promise<SignInTransaction | null> {
    const text = await this.redis.guard(() => this.redis.client.getdel(this.key(idHash)));
    if (text === null) return null;
    const tx = JSON.parse(text) as SignInTransaction;
    return typeof tx.state === "string" && tx.expiresAt > now ? tx : null;
  }

  private key(idHash: string): string {
    return `${this.keyPrefix}signin-tx:${idHash}`;
  }
}
