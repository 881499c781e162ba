/** The embedded sign-in transaction store: a TTL map with a cap. */
import type {
  SaveOutcome,
  SignInTransaction,
  SignInTransactionStore,
} from "../domain/ports/sign-in-transaction-store.js";
import { sweepEvery, TtlMap } from "./ttl-map.js";

/**
 * Sign-ins in progress in one process. At most `maxPending` are held
 * (HANDOFF_MEMORY_MAX_PENDING): a flood of started sign-ins cannot grow
 * memory without bound; past it a new one is refused until some expire.
 */
export class MemorySignInTransactionStore implements SignInTransactionStore {
  private readonly txs = new TtlMap<string, SignInTransaction>();
  private readonly stopSweeping: () => void;

  constructor(
    private readonly maxPending = 100_000,
    private readonly clock: () => number = Date.now,
    sweepMs = 60_000,
  ) {
    this.stopSweeping = sweepEvery(sweepMs, clock, [this.txs]);
  }

  async save(idHash: string, tx: SignInTransaction): Promise<SaveOutcome> {
    if (this.txs.size >= this.maxPending && this.txs.get(idHash, this.clock()) === undefined) {
      return "full";
    }
    this.txs.set(idHash, tx, tx.expiresAt);
    return "saved";
  }

  async take(idHash: string, now: number): Promise<SignInTransaction | null> {
    const tx = this.txs.get(idHash, now) ?? null;
    this.txs.delete(idHash);
    return tx;
  }

  close(): void {
    this.stopSweeping();
  }
}
