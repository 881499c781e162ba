/**
 * Redirect URIs, the one rule: which ones a client may register, and which
 * requested URI matches a registered one (RFC 6749 §3.1.2, RFC 8252 §7,
 * OAuth 2.1 §2.3.1 and §4.1.1). Every source of clients (the clients file,
 * dynamic registration, metadata documents) validates with `checkRedirectUri`;
 * the authorization and token endpoints match with `matchRedirectUri`.
 */

/** Where a valid redirect URI sends the browser back to (RFC 8252 §7). */
export type RedirectUriKind =
  /** `https://host/…`: any host. */
  | { readonly kind: "https"; readonly host: string }
  /** `http://127.0.0.1`, `http://[::1]` or `http://localhost`: this computer, any port (RFC 8252 §7.3). */
  | { readonly kind: "loopback"; readonly host: string }
  /** `com.example.app:/…`: a reverse-domain private-use scheme (RFC 8252 §7.1). */
  | { readonly kind: "private-use"; readonly scheme: string };

/** Why a redirect URI may not be registered: a value, not a throw (the caller picks its error). */
export interface RedirectUriProblem {
  readonly problem: string;
}

/**
 * RFC 3986 §2 characters, without `#` (no fragment, RFC 6749 §3.1.2) and
 * without anything a browser's URL parser would rewrite (space, `\`, quotes,
 * `<>`, non-ASCII): what is registered is exactly what the browser follows.
 */
const URI_CHARS = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]+$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * Loopback redirects (RFC 8252 §7.3): the exact IP literals `127.0.0.1` and
 * `[::1]`, and `localhost`. RFC 8252 §8.3 calls `localhost` NOT RECOMMENDED
 * (a name, not an address) but does not forbid it; real MCP clients register
 * `http://localhost:<port>/callback`, and browsers resolve `localhost` to
 * loopback only, so it is accepted and matched like the literals. Other
 * spellings (`127.1`, `0x7f.0.0.1`, `[0:0:0:0:0:0:0:1]`, `localhost.`) are
 * refused: a browser would rewrite them, so no exact comparison could hold.
 * Groups: host, port, rest (path and query).
 */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([0-9]{1,5}))?([/?].*)?$/;

/** A private-use scheme in reverse-domain form, e.g. `com.example.app` (RFC 8252 §7.1). */
const PRIVATE_USE = /^([a-z][a-z0-9+-]*(?:\.[a-z0-9+-]+)+):(.+)$/;

/** Schemes a browser or OS handles itself: never a client's private-use scheme. */
const NOT_PRIVATE_USE = new Set(["http", "https", "javascript", "data", "file", "blob", "about"]);

function validPort(port: string | undefined): boolean {
  if (port === undefined) return true;
  const n = Number(port);
  return port[0] !== "0" && n >= 1 && n <= 65535;
}

/**
 * Validates a redirect URI at registration time and says what kind it is.
 * `https` with any host; `http` only to loopback (RFC 8252 §7.3, §8.3);
 * private-use schemes with a period (RFC 8252 §7.1, §8.4); never a fragment
 * (RFC 6749 §3.1.2) or credentials in the authority.
 */
export function checkRedirectUri(uri: string): RedirectUriKind | RedirectUriProblem {
  if (!URI_CHARS.test(uri)) {
    return uri.includes("#")
      ? { problem: "a redirect URI must not have a fragment (RFC 6749 §3.1.2)" }
      : { problem: "a redirect URI must be an absolute URI of RFC 3986 characters" };
  }
  if (BAD_PERCENT.test(uri)) return { problem: "a redirect URI has a malformed %-escape" };
  if (uri.startsWith("http://")) {
    const m = LOOPBACK.exec(uri);
    if (m === null) {
      return {
        problem:
          "http redirect URIs must be loopback: http://127.0.0.1, http://[::1] or http://localhost (RFC 8252 §7.3)",
      };
    }
    if (!validPort(m[2])) return { problem: "the loopback redirect URI's port is not 1 to 65535" };
    return { kind: "loopback", host: m[1] as string };
  }
  if (uri.startsWith("https://")) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return { problem: "the https redirect URI does not parse" };
    }
    if (
      url.username !== "" ||
      url.password !== "" ||
      uri.slice(8).split(/[/?]/)[0]?.includes("@")
    ) {
      return { problem: "a redirect URI must not carry credentials" };
    }
    if (url.hostname === "") return { problem: "the https redirect URI has no host" };
    return { kind: "https", host: url.host };
  }
  const m = PRIVATE_USE.exec(uri);
  if (m === null || NOT_PRIVATE_USE.has(m[1] as string)) {
    return {
      problem:
        "a redirect URI must be https, loopback http, or a reverse-domain private-use scheme such as com.example.app:/callback (RFC 8252 §7.1)",
    };
  }
  return { kind: "private-use", scheme: m[1] as string };
}

/** True when `checkRedirectUri` found a problem. */
export function isRedirectUriProblem(
  r: RedirectUriKind | RedirectUriProblem,
): r is RedirectUriProblem {
  return "problem" in r;
}

/**
 * The registered redirect URI a request's `redirect_uri` names, or undefined.
 * Exact string comparison (OAuth 2.1 §2.3.1, RFC 6749 §3.1.2.3: no
 * normalisation, no prefix or host-only matching), with one exception:
 * loopback redirects match on any port, because a native app picks a free
 * port when it starts (RFC 8252 §7.3); scheme, host, path and query must
 * still be identical. Without a `redirect_uri` the single registered one
 * applies (RFC 6749 §3.1.2.3), unless it is loopback (its port is unknown).
 * Returns the URI to send the browser to (the requested one, port included).
 */
export function matchRedirectUri(
  registered: readonly string[],
  requested: string | undefined,
): string | undefined {
  if (requested === undefined) {
    const only = registered.length === 1 ? registered[0] : undefined;
    return only === undefined || LOOPBACK.test(only) ? undefined : only;
  }
  if (registered.includes(requested)) return requested;
  const want = LOOPBACK.exec(requested);
  if (want === null || !validPort(want[2])) return undefined;
  for (const candidate of registered) {
    const have = LOOPBACK.exec(candidate);
    if (have !== null && have[1] === want[1] && (have[3] ?? "") === (want[3] ?? "")) {
      return requested;
    }
  }
  return undefined;
}
