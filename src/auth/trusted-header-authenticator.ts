/**
 * Sign-in by an authenticating reverse proxy (oauth2-proxy, a corporate SSO
 * gateway) that passes the user name in a header. The header is believed
 * only when the TCP peer itself is one of the configured proxies: the
 * address fastify derives from X-Forwarded-For is deliberately not used,
 * since a client can write that header too.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Authenticator, SignInContext } from "./authenticator.js";
import { USERNAME } from "./users-file.js";

/** Which header to read and whom to believe it from. */
export interface TrustedHeaderOptions {
  /** The header carrying the user name, e.g. `x-forwarded-user`. */
  readonly header: string;
  /** Proxy addresses or CIDR ranges, e.g. `10.0.0.5` or `10.0.0.0/24` or `::1`. */
  readonly proxies: readonly string[];
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, IPv6 and IPv6/n into a BlockList; throws on anything else. */
export function proxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const [addr = "", bits] = raw.trim().split("/");
    const type = isIPv4(addr) ? "ipv4" : isIPv6(addr) ? "ipv6" : undefined;
    const prefix = bits === undefined ? undefined : Number(bits);
    const max = type === "ipv4" ? 32 : 128;
    if (
      type === undefined ||
      (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max))
    ) {
      throw new Error(`not an IP address or CIDR range: ${raw}`);
    }
    if (prefix === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, prefix, type);
  }
  return list;
}

/** Whether `ip` (as a socket reports it, IPv4-mapped or not) is in `list`. */
export function inList(list: BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped) return list.check(mapped, "ipv4");
  return isIPv4(ip) ? list.check(ip, "ipv4") : isIPv6(ip) && list.check(ip, "ipv6");
}

/** Believes the user-name header from the configured proxies, on every request; keeps no session. */
export class TrustedHeaderAuthenticator implements Authenticator {
  readonly kind = "trusted-header";
  private readonly proxies: BlockList;
  private readonly header: string;

  constructor(options: TrustedHeaderOptions) {
    this.proxies = proxyList(options.proxies);
    this.header = options.header.toLowerCase();
  }

  /** The header's user name from a trusted proxy; `null` (no one) otherwise. */
  subjectOf(request: FastifyRequest): string | null {
    if (!inList(this.proxies, request.socket.remoteAddress)) return null;
    const value = request.headers[this.header];
    if (typeof value !== "string") return null;
    const name = value.trim();
    return USERNAME.test(name) ? name : null;
  }

  register(app: FastifyInstance, ctx: SignInContext): void {
    // Reached only when the proxy did not vouch for the request.
    app.get(ctx.path, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      if (this.subjectOf(request) !== null) {
        return reply.redirect(
          ctx.safeReturnTo(typeof query.return_to === "string" ? query.return_to : undefined),
          303,
        );
      }
      return ctx.sendPage(reply, 401, { kind: "proxy-required" });
    });
  }
}
