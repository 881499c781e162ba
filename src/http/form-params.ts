/** Strict `application/x-www-form-urlencoded` parsing with the RFC's parameter rules. */
import { OAuthError } from "../domain/oauth-error.js";

/**
 * Parameters of a form body (RFC 6749 §3.1, §3.2; RFC 8628 §3.1):
 * a parameter sent without a value counts as omitted, unknown ones are
 * ignored, and one sent twice is `invalid_request`, except those that may
 * repeat (RFC 8707 `resource`).
 */
export class FormParams {
  private constructor(private readonly values: ReadonlyMap<string, readonly string[]>) {}

  /**
   * Decodes a body. Malformed percent-encoding and invalid UTF-8 are
   * `invalid_request` (URLSearchParams would silently substitute U+FFFD).
   */
  static parse(body: string | Uint8Array): FormParams {
    if (typeof body !== "string") return FormParams.parse(decodeUtf8(body));
    const values = new Map<string, string[]>();
    if (body === "") return new FormParams(values);
    for (const pair of body.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = decode(eq === -1 ? pair : pair.slice(0, eq));
      const value = eq === -1 ? "" : decode(pair.slice(eq + 1));
      const list = values.get(name);
      if (list) list.push(value);
      else values.set(name, [value]);
    }
    return new FormParams(values);
  }

  static empty(): FormParams {
    return new FormParams(new Map());
  }

  /** A single-valued parameter; undefined when absent or empty; repeated → invalid_request. */
  get(name: string): string | undefined {
    // RFC 6749 §3.1: a parameter without a value is as if omitted, so `a=&a=x` sends
    // `a` once (the fuzz tests found it refused as repeated).
    const list = this.values.get(name)?.filter((v) => v !== "");
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) {
      throw new OAuthError("invalid_request", `the parameter ${name} must not be repeated`);
    }
    return list[0];
  }

  /** Like `get`, but absent is `invalid_request`. */
  require(name: string): string {
    const v = this.get(name);
    if (v === undefined)
      throw new OAuthError("invalid_request", `the parameter ${name} is required`);
    return v;
  }

  /** A parameter that may repeat (RFC 8707 `resource`); empty values are dropped. */
  getAll(name: string): string[] {
    return (this.values.get(name) ?? []).filter((v) => v !== "");
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

/** Decodes one form-encoded component (`+` is a space); undefined if malformed or not UTF-8. */
export function decodeFormComponent(s: string): string | undefined {
  // Device codes, client ids and most values need no decoding: skip the work.
  if (!s.includes("%") && !s.includes("+")) return s;
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The body's bytes as text. Raw bytes that are not UTF-8 are refused too: read
 * as a string, they would turn into U+FFFD before the percent-decoding could
 * catch them (the fuzz tests found `client_id=public-cli%` + 0xC3 answered as
 * an unknown client rather than a malformed request).
 */
function decodeUtf8(body: Uint8Array): string {
  try {
    return UTF8.decode(body);
  } catch {
    throw new OAuthError(
      "invalid_request",
      "the request body is not valid form encoding (bad percent-escape or UTF-8)",
    );
  }
}

function decode(s: string): string {
  const v = decodeFormComponent(s);
  if (v === undefined) {
    throw new OAuthError(
      "invalid_request",
      "the request body is not valid form encoding (bad percent-escape or UTF-8)",
    );
  }
  return v;
}
