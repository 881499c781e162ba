/** Which upstream issuers may be reached over plain http: only one on this machine. */

/** True when the issuer is http on a loopback host (127.0.0.0/8, ::1, localhost). */
export function isLoopbackIssuer(issuer: string): boolean {
  const u = new URL(issuer);
  if (u.protocol !== "http:") return false;
  const host = u.hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
