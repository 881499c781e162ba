/**
 * Which addresses a fetch of a client-supplied URL may reach: only global
 * unicast. Private (RFC 1918), loopback, link-local, unique-local (RFC 4193),
 * multicast, unspecified, carrier-grade NAT, documentation, benchmarking,
 * 6to4/Teredo/NAT64 and every other special-purpose range (RFC 6890) are
 * refused, so a metadata document URL cannot make the server probe its own
 * network (SSRF). ipaddr.js keeps the range tables (a runtime dependency).
 */
import ipaddr from "ipaddr.js";

/**
 * True when `address` may be connected to. IPv4-mapped IPv6 is judged as the
 * IPv4 address it carries. `allowLoopback` is for development and tests only.
 */
export function isPermittedAddress(address: string, allowLoopback: boolean): boolean {
  if (!ipaddr.isValid(address)) return false;
  const range = ipaddr.process(address).range();
  return range === "unicast" || (allowLoopback && range === "loopback");
}
