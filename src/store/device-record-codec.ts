/**
 * The compact encoding of a device authorization in Redis: one string, fields
 * joined by U+001F, times in base 36. The Lua scripts (redis-scripts.ts) read
 * and rewrite the same layout. The domain keeps control characters out of
 * every field (see `sanitizeText` and the scope, resource and subject rules),
 * so the separator cannot occur inside one.
 */
import type { DeviceAuthorization, DeviceStatus } from "../domain/device-authorization.js";

export const SEPARATOR = "\x1f";

const STATUS_CODE: Record<DeviceStatus, string> = {
  pending: "P",
  approved: "A",
  denied: "D",
  consumed: "C",
};
export const STATUS_NAME: Readonly<Record<string, DeviceStatus>> = {
  P: "pending",
  A: "approved",
  D: "denied",
  C: "consumed",
};

/** Space-joined lists: scopes and absolute URIs never contain spaces. */
export const joinList = (xs: readonly string[]) => xs.join(" ");
export const splitList = (s: string | undefined) => (s ? s.split(" ") : []);

/**
 * Order: status, interval, last poll, expires, client, subject, granted,
 * created, scopes, resources, ip, user agent, then the issuance nonce and the
 * consumption (at, attempt at, confirmed 1/0, resources named; all "" until
 * the code is consumed), then the approver's address, written only once the
 * decision names one. `granted` is "-" when absent so that "" can mean
 * "granted nothing". A record written before the issuance fields existed has
 * 12 fields and reads as having no nonce and no consumption; one without the
 * 18th has no approver address.
 */
export function encodeRecord(a: DeviceAuthorization): string {
  const c = a.consumption;
  return [
    STATUS_CODE[a.status],
    String(a.interval),
    a.lastPolledAt.toString(36),
    a.expiresAt.toString(36),
    a.clientId,
    a.subject ?? "",
    a.grantedScopes === undefined ? "-" : joinList(a.grantedScopes),
    a.createdAt.toString(36),
    joinList(a.scopes),
    joinList(a.resources),
    a.ipAddress,
    a.userAgent,
    a.issuanceNonce ?? "",
    c === undefined ? "" : c.at.toString(36),
    c === undefined ? "" : c.attemptAt.toString(36),
    c === undefined ? "" : c.confirmed ? "1" : "0",
    c === undefined ? "" : joinList(c.narrowTo),
    // Left off when absent: a pending record stays as small as before.
    ...(a.approverAddress ? [a.approverAddress] : []),
  ].join(SEPARATOR);
}

export function decodeRecord(packed: string): DeviceAuthorization {
  const f = packed.split(SEPARATOR);
  const [
    st,
    interval,
    last,
    expires,
    clientId,
    subject,
    granted,
    created,
    scopes,
    resources,
    ip,
    ua,
    nonce,
    consumedAt,
    attemptAt,
    confirmed,
    narrowTo,
    approver,
  ] = f;
  return {
    status: STATUS_NAME[st ?? ""] ?? "pending",
    interval: Number(interval),
    lastPolledAt: Number.parseInt(last ?? "0", 36),
    expiresAt: Number.parseInt(expires ?? "0", 36),
    clientId: clientId ?? "",
    ...(subject ? { subject } : {}),
    ...(granted === undefined || granted === "-" ? {} : { grantedScopes: splitList(granted) }),
    createdAt: Number.parseInt(created ?? "0", 36),
    scopes: splitList(scopes),
    resources: splitList(resources),
    ipAddress: ip ?? "",
    userAgent: ua ?? "",
    ...(approver ? { approverAddress: approver } : {}),
    ...(nonce ? { issuanceNonce: nonce } : {}),
    ...(consumedAt
      ? {
          consumption: {
            at: Number.parseInt(consumedAt, 36),
            attemptAt: Number.parseInt(attemptAt || consumedAt, 36),
            confirmed: confirmed === "1",
            narrowTo: splitList(narrowTo),
          },
        }
      : {}),
  };
}
