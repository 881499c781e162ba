/**
 * The person's connected devices: every live refresh family they approved
 * (one family is one connected device), and Disconnect, which revokes the
 * family and its live access tokens (RFC 7009 §2.1: introspection answers
 * inactive at once). Only the owner can disconnect: another subject's family
 * id is `not_found` and nothing changes (docs/token-lifecycle.md).
 */
import type { ClientOrigin } from "./client.js";
import type { ClientDirectory } from "./client-directory.js";
import type { FlowEvents } from "./ports/flow-events.js";
import type { ConnectedGrant, TokenStore } from "./ports/token-store.js";

/** One row of the page: the grant and how its client is named. */
export interface ConnectedDevice extends ConnectedGrant {
  readonly clientName: string;
  readonly clientOrigin?: ClientOrigin;
}

export class ConnectedDevices {
  constructor(
    private readonly deps: {
      readonly store: TokenStore;
      readonly clients: Pick<ClientDirectory, "find">;
      readonly events: FlowEvents;
      /** The most rows one page lists. */
      readonly limit: number;
      readonly clock?: () => number;
    },
  ) {}

  /** The subject's live grants, newest first. */
  async list(subject: string): Promise<ConnectedDevice[]> {
    const grants = await this.deps.store.listBySubject(subject, this.now(), this.deps.limit);
    return Promise.all(
      grants.map(async (g) => {
        const client = await this.deps.clients.find(g.clientId);
        return {
          ...g,
          clientName: client?.name ?? g.clientId,
          ...(client?.origin === undefined ? {} : { clientOrigin: client.origin }),
        };
      }),
    );
  }

  /** Disconnect: true if the subject's family was live and is now revoked. */
  async disconnect(subject: string, familyId: string): Promise<boolean> {
    const out = await this.deps.store.revokeFamilyOfSubject(familyId, subject, this.now());
    if (out.kind !== "revoked") return false;
    this.deps.events.record({
      event: "revoked",
      tokenType: "refresh_token",
      clientId: out.clientId,
      subject,
      by: "subject",
    });
    return true;
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }
}
