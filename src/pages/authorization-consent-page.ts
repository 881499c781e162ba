/**
 * The consent screen of the authorization code grant: the device flow's
 * screen (who asks, for what, for which resources) without a code to compare,
 * and with where the browser goes next, so a person can tell an application
 * on their own computer from a website (RFC 6749 §10.2, RFC 8252 §8.6).
 */
import type { AuthorizationRequest } from "../domain/authorization-request.js";
import type { RedirectUriKind } from "../domain/redirect-uri.js";
import { clientOriginNotice, clientOriginTag } from "./client-origin-notice.js";
import { resourceSection, scopeItems } from "./consent-page.js";
import { html } from "./html.js";
import { layout } from "./page-layout.js";

/** What the screen shows, and the form that carries the request back. */
export interface AuthorizationConsentPage {
  readonly base: string;
  readonly subject: string;
  readonly csrfToken: string;
  readonly canSignOut: boolean;
  readonly request: AuthorizationRequest;
  /** The authorization request's query, exactly as received: posted back and checked again. */
  readonly query: string;
}

/** Where the browser is sent after the decision, in words. */
function destination(kind: RedirectUriKind, redirectUri: string) {
  switch (kind.kind) {
    case "https":
      return html`the website <strong class="mono" id="redirect-host">${kind.host}</strong>`;
    case "loopback": {
      const port = /^http:\/\/[^/?]*?:(\d+)/.exec(redirectUri)?.[1];
      return html`an application on this computer (<strong class="mono" id="redirect-host">${kind.host}${port ? `:${port}` : ""}</strong>)`;
    }
    case "private-use":
      return html`the application that opens <strong class="mono" id="redirect-host">${kind.scheme}:</strong> links`;
  }
}

/** Renders the screen with its Deny and Approve buttons. */
export function authorizationConsentPage(p: AuthorizationConsentPage): string {
  const r = p.request;
  const name = r.client.name;
  const body = html`
<p class="eyebrow">Sign-in request</p>
<h1>Allow ${name} to access your account?</h1>
${clientOriginNotice(name, r.client.origin)}
<h2>${name} will be able to</h2>
<ul class="scopes">${scopeItems(r.scopes)}</ul>
${resourceSection(r.resources)}
<h2>Request details</h2>
<dl class="details">
  <dt>Application</dt><dd>${name} <span class="tag">${r.client.id}</span>${clientOriginTag(r.client.origin)}</dd>
  <dt>Then goes to</dt><dd>${destination(r.redirectKind, r.redirectUri)}</dd>
</dl>
<div class="warning" role="note">
  <strong>Only continue if you started this yourself.</strong>
  Approve only if you just asked ${name} to sign in. If a link you did not expect brought you here, choose Deny.
</div>
<form method="post" action="${p.base}/authorize">
  <input type="hidden" name="_csrf" value="${p.csrfToken}">
  <input type="hidden" name="request" value="${p.query}">
  <div class="actions">
    <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
    <button type="submit" name="decision" value="approve" class="primary">Approve</button>
  </div>
</form>`;
  return layout(
    {
      title: `Allow ${name}?`,
      base: p.base,
      signedIn: { subject: p.subject, ...(p.canSignOut ? { signOutCsrfToken: p.csrfToken } : {}) },
    },
    body,
  );
}
