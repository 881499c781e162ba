/**
 * The SSRF-safe fetch of a Client ID Metadata Document: https only; the host
 * is resolved here and every address vetted (address-vetting.ts) before any
 * connection; the connection goes to the vetted address (a `lookup` that
 * returns only it, so a second DNS answer cannot switch it: no rebinding);
 * the certificate is checked against the URL's host; no redirects; a size
 * cap while reading; one deadline over DNS, connect, TLS and body.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import type {
  FetchedDocument,
  MetadataDocumentFetcher,
} from "../domain/client-metadata-document.js";
import { isPermittedAddress } from "./address-vetting.js";

/** A resolved address, as dns.lookup gives it. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

export interface SafeFetchOptions {
  /** The whole fetch (DNS, connect, TLS, headers, body) must end within this. */
  readonly timeoutMs: number;
  /** The largest document, in bytes. */
  readonly maxBytes: number;
  /** Development and tests only: loopback addresses are allowed too. */
  readonly allowLoopback: boolean;
  /** Extra trusted CA certificates (PEM), for a test CA; else the system's. */
  readonly ca?: string;
  /** How names resolve; default dns.lookup with every address. Tests map names here. */
  readonly resolve?: (host: string) => Promise<readonly ResolvedAddress[]>;
}

const systemResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

/** `max-age` of a Cache-Control header; 0 for no-store or no-cache. */
export function maxAgeOf(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (/(^|[\s,])(no-store|no-cache)([\s,]|$)/i.test(header)) return 0;
  const m = /(?:^|[\s,])max-age\s*=\s*"?(\d{1,10})"?/i.exec(header);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Fetches metadata documents under the limits above. */
export class SafeMetadataDocumentFetcher implements MetadataDocumentFetcher {
  constructor(private readonly o: SafeFetchOptions) {}

  async fetch(url: string): Promise<FetchedDocument> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no complete answer within ${this.o.timeoutMs} ms`)),
      this.o.timeoutMs,
    );
    try {
      return await this.run(new URL(url), controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private async run(url: URL, signal: AbortSignal): Promise<FetchedDocument> {
    if (url.protocol !== "https:") throw new Error("only https URLs are fetched");
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const addresses = isIP(host)
      ? [{ address: host, family: isIP(host) }]
      : await abortable((this.o.resolve ?? systemResolve)(host), signal);
    // Every address must pass: a name that also resolves inward is refused outright.
    if (addresses.length === 0) throw new Error(`${host} does not resolve`);
    const refused = addresses.find((a) => !isPermittedAddress(a.address, this.o.allowLoopback));
    if (refused) throw new Error(`${host} resolves to a non-public address (${refused.address})`);
    const vetted = addresses[0] as ResolvedAddress;
    const pinned: LookupFunction = (_name, options, callback) => {
      if (options.all) callback(null, [{ address: vetted.address, family: vetted.family }]);
      else callback(null, vetted.address, vetted.family);
    };
    return new Promise<FetchedDocument>((resolve, reject) => {
      const req = https.request(
        {
          protocol: "https:",
          hostname: host,
          port: url.port === "" ? 443 : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: "GET",
          headers: { accept: "application/json", "user-agent": "handoff (client metadata)" },
          lookup: pinned,
          ...(isIP(host) ? {} : { servername: host }),
          ...(this.o.ca === undefined ? {} : { ca: this.o.ca }),
          agent: false,
          signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            res.destroy();
            return reject(
              new Error(
                status >= 300 && status < 400
                  ? `it answered a redirect (${status}); redirects are not followed`
                  : `it answered ${status}, not 200`,
              ),
            );
          }
          const declared = Number(res.headers["content-length"] ?? 0);
          if (declared > this.o.maxBytes) {
            res.destroy();
            return reject(new Error(`it is larger than ${this.o.maxBytes} bytes`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.o.maxBytes) {
              res.destroy();
              reject(new Error(`it is larger than ${this.o.maxBytes} bytes`));
            } else chunks.push(chunk);
          });
          res.on("error", reject);
          // A body cut off (the deadline, a reset) ends in 'close' without 'end'.
          res.on("close", () => {
            if (!res.complete)
              reject(signal.aborted ? signal.reason : new Error("the answer was cut off"));
          });
          res.on("end", () => {
            try {
              resolve({
                body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
                maxAgeSeconds: maxAgeOf(res.headers["cache-control"]),
              });
            } catch {
              reject(new Error("it is not valid JSON"));
            }
          });
        },
      );
      req.on("error", (e) => reject(signal.aborted ? signal.reason : e));
      req.end();
    });
  }
}

/** Rejects with the signal's reason when it aborts first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
