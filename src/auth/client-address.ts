/**
 * Where a request came from, behind HANDOFF_TRUST_PROXY: one rule for the
 * RFC endpoints and pages (fastify's `request.ip` is given this predicate)
 * and the RPCs (`clientAddress`), so the stored requester address and every
 * per-address limit see the same address over either.
 */
import { inList, proxyList } from "./trusted-header-authenticator.js";

/** The socket and headers of an HTTP/1.1 or HTTP/2 request. */
export interface AddressedRequest {
  readonly socket?: { readonly remoteAddress?: string | undefined } | null;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** Resolves client addresses for one HANDOFF_TRUST_PROXY value (unset: the socket's address). */
export class ClientAddresses {
  /** Is `address` one of the trusted proxies? (What fastify's `trustProxy` asks.) */
  readonly trusts: (address: string) => boolean;

  constructor(trustProxy: string | undefined) {
    const list =
      trustProxy === undefined ? undefined : proxyList(trustProxy.split(",").map((p) => p.trim()));
    this.trusts = list === undefined ? () => false : (address) => inList(list, address);
  }

  /**
   * The client's address: starting at the socket's peer, while the current
   * hop is a trusted proxy, step to the next `X-Forwarded-For` entry from
   * the right (the algorithm of proxy-addr, which fastify uses).
   */
  of(req: AddressedRequest): string {
    let address = req.socket?.remoteAddress ?? "";
    if (!this.trusts(address)) return address;
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .map((h) => h.trim())
      .filter((h) => h !== "");
    for (let i = hops.length - 1; i >= 0; i--) {
      address = hops[i] as string;
      if (!this.trusts(address)) break;
    }
    return address;
  }
}
