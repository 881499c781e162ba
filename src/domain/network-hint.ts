/**
 * Whether the device that asked and the browser that answers share a
 * network: the same IPv4 /24 or IPv6 /48. Shown on the consent screen as a
 * hint only (RFC 8628 §5.4 asks servers to say where a request came from); a
 * mismatch is normal for SSH sessions and VPNs, so it informs and never blocks.
 */
import ipaddr from "ipaddr.js";

/** What the consent screen says about the two addresses. */
export type NetworkHint =
  | { readonly kind: "same_address" }
  | { readonly kind: "same_network"; readonly network: string }
  | { readonly kind: "different" }
  /** One address is missing or not an IP (e.g. a request from a Unix socket). */
  | { readonly kind: "unknown" };

const IPV4_PREFIX = 24;
const IPV6_PREFIX = 48;

/** Parses an address; IPv4-mapped IPv6 (`::ffff:192.0.2.1`) counts as IPv4. */
function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (!ipaddr.isValid(address)) return null;
  const ip = ipaddr.parse(address);
  return ip instanceof ipaddr.IPv6 && ip.isIPv4MappedAddress() ? ip.toIPv4Address() : ip;
}

/** Compares the requesting device's address with the approver's. */
export function networkHint(requester: string, approver: string): NetworkHint {
  const a = parse(requester);
  const b = parse(approver);
  if (a === null || b === null) return { kind: "unknown" };
  if (a.kind() !== b.kind()) return { kind: "different" };
  if (a.toNormalizedString() === b.toNormalizedString()) return { kind: "same_address" };
  const bits = a.kind() === "ipv4" ? IPV4_PREFIX : IPV6_PREFIX;
  if (!a.match(b, bits)) return { kind: "different" };
  return { kind: "same_network", network: `${networkAddress(a, bits)}/${bits}` };
}

/** The address with all but the first `bits` cleared, as text (both prefixes are whole bytes). */
function networkAddress(ip: ipaddr.IPv4 | ipaddr.IPv6, bits: number): string {
  const bytes = ip.toByteArray().map((byte, i) => (i < bits / 8 ? byte : 0));
  return ipaddr.fromByteArray(bytes).toString();
}
