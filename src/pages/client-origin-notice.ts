/**
 * What the consent screen says about who vouches for a client's name: nothing
 * for a client the operator configured; "unverified" for one that registered
 * itself (RFC 7591: its name is whatever the registrant typed, RFC 7591 §5
 * warns that it may impersonate another); the host behind a Client ID
 * Metadata Document. Every value goes through the escaping `html` template.
 */
import type { ClientOrigin } from "../domain/client.js";
import { html, type SafeHtml } from "./html.js";

/** A short tag beside the client's name. */
export function clientOriginTag(origin: ClientOrigin | undefined): SafeHtml | "" {
  if (origin === undefined) return "";
  return origin.kind === "registered"
    ? html`<span class="tag unverified">unverified</span>`
    : html`<span class="tag unverified">from ${origin.host}</span>`;
}

/** A note under the heading, for self-described clients only. */
export function clientOriginNotice(name: string, origin: ClientOrigin | undefined): SafeHtml | "" {
  if (origin === undefined) return "";
  if (origin.kind === "registered") {
    return html`<div class="warning" role="note" id="client-origin">
  <strong>Unverified application</strong>
  This application registered itself with this server. “${name}” is the name it chose; nobody has checked it.
</div>`;
  }
  return html`<div class="warning" role="note" id="client-origin">
  <strong>Described by <span class="mono">${origin.host}</span></strong>
  This application’s name and details come from a document at <span class="mono">${origin.host}</span>. Continue only if you trust that site.
</div>`;
}
