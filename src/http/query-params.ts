/** A request URI's query as the authorization endpoint reads it (RFC 6749 §3.1, Appendix B). */
import type { AuthorizationQuery } from "../domain/authorization-request.js";
import { decodeFormComponent } from "./form-params.js";

/** The raw query string of a request URL (after `?`), "" when there is none. */
export function rawQueryOf(url: string): string {
  const q = url.indexOf("?");
  return q === -1 ? "" : url.slice(q + 1);
}

/**
 * Every value of every parameter, form-decoded; null when the encoding is
 * malformed (bad percent-escape or UTF-8), which nothing may guess around.
 */
export function parseQuery(raw: string): AuthorizationQuery | null {
  const values = new Map<string, string[]>();
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = decodeFormComponent(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? "" : decodeFormComponent(pair.slice(eq + 1));
    if (name === undefined || value === undefined) return null;
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  return values;
}
