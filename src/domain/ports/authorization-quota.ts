/**
 * The limit on creating device authorizations (RFC 8628 §3.1–3.2;
 * docs/hostile-input.md): each request is charged to the requester's address
 * and to the client, whether or not it then succeeds (a rate, not a failure
 * count), so a flood cannot fill memory or Redis with pending requests.
 */
export interface AuthorizationQuota {
  /**
   * Charges one device authorization of `clientId` from `address`. Resolves
   * with the seconds to wait while a limit is in force (nothing is charged
   * then), else with undefined.
   */
  charge(clientId: string, address: string): Promise<number | undefined>;
}
