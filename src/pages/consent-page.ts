/**
 * The consent screen (RFC 8628 §5.4): who is asking, for what, from where,
 * the code to compare, and a plain warning against remote phishing, where an
 * attacker starts a flow and talks someone else into approving it.
 */
import type { DeviceAuthorizationView } from "../domain/device-flow.js";
import { type NetworkHint, networkHint } from "../domain/network-hint.js";
import { resourceHost } from "../domain/resource.js";
import { clientOriginNotice, clientOriginTag } from "./client-origin-notice.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./page-layout.js";
import { scopeWords } from "./scope-words.js";
import { timeAgo, timeUntil } from "./time-words.js";

/** What the consent screen shows. */
export interface ConsentPage {
  readonly base: string;
  readonly subject: string;
  readonly csrfToken: string;
  /** False when a trusted proxy signed the person in: signing out is the proxy's business. */
  readonly canSignOut: boolean;
  readonly request: DeviceAuthorizationView;
  /** The address the person's browser comes from, to tell them whether the device is on the same network. */
  readonly viewerIp: string;
  readonly now: Date;
}

/** The network hint beside the request's address: informs, never blocks. */
function hintText(hint: NetworkHint): SafeHtml | "" {
  switch (hint.kind) {
    case "same_address":
      return html`<span class="tag same">same address as yours</span>`;
    case "same_network":
      return html`<span class="tag same">same network as yours (${hint.network})</span>`;
    case "different":
      return html`<span class="network-note" id="network-hint">Not the network you are on now. That is normal when you run the command over SSH or a VPN, but if you did not start this, choose I didn't start this.</span>`;
    case "unknown":
      return "";
  }
}

/** The list items of what a grant allows, in words (shared by both consent screens). */
export function scopeItems(scopes: readonly string[]): SafeHtml | SafeHtml[] {
  return scopes.length === 0
    ? html`<li><span class="what">Confirm it is you (no access to your data)</span></li>`
    : scopes.map((s) => html`<li><span class="what">${scopeWords(s)}</span><code>${s}</code></li>`);
}

/** The RFC 8707 resources a grant is limited to, if any (shared by both consent screens). */
export function resourceSection(resources: readonly string[]): SafeHtml | "" {
  return resources.length === 0
    ? ""
    : html`<h2>Only for</h2>
<ul class="scopes">${resources.map(
        // The host first and large, in punycode as stored, so a look-alike
        // (xn--pple-43d.com for a Cyrillic "apple.com") stands out.
        (u) =>
          html`<li><span class="what"><strong class="host mono">${resourceHost(u)}</strong> <span class="mono resource">${u}</span></span></li>`,
      )}</ul>`;
}

/** Renders the consent screen with its Deny and Approve buttons. */
export function consentPage(p: ConsentPage): string {
  const r = p.request;
  const scopes = scopeItems(r.scopes);
  const resources = resourceSection(r.resources);
  const sameNetwork = hintText(networkHint(r.ipAddress, p.viewerIp));
  const body = html`
<p class="eyebrow">Device sign-in request</p>
<h1>Allow ${r.clientName} to access your account?</h1>
${clientOriginNotice(r.clientName, r.clientOrigin)}
<div class="compare">
  <small>Code on your device</small>
  <span class="code" id="user-code">${r.userCode}</span>
  <small>It must match exactly.</small>
</div>
<h2>${r.clientName} will be able to</h2>
<ul class="scopes">${scopes}</ul>
${resources}
<h2>Request details</h2>
<dl class="details">
  <dt>Requested</dt><dd><time datetime="${r.createdAt.toISOString()}">${timeAgo(r.createdAt, p.now)}</time></dd>
  <dt>IP address</dt><dd class="mono">${r.ipAddress}${sameNetwork}</dd>
  <dt>Device</dt><dd class="mono">${r.userAgent === "" ? "not given" : r.userAgent.slice(0, 200)}</dd>
  <dt>Application</dt><dd>${r.clientName} <span class="tag">${r.clientId}</span>${clientOriginTag(r.clientOrigin)}</dd>
  <dt>Expires</dt><dd>${timeUntil(r.expiresAt, p.now)}</dd>
</dl>
<div class="warning" role="note">
  <strong>Only continue if you started this yourself.</strong>
  Approve only if you just asked to sign in on a device or terminal of your own and the code matches.
  If someone sent you this link or code, or asked you to enter it, choose Deny: they may be trying to get into your account.
</div>
<form method="post" action="${p.base}/decision">
  <input type="hidden" name="_csrf" value="${p.csrfToken}">
  <input type="hidden" name="user_code" value="${r.userCode}">
  <div class="actions">
    <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
    <button type="submit" name="decision" value="approve" class="primary">Approve</button>
  </div>
  <div class="report">
    <button type="submit" name="decision" value="report" class="danger" aria-describedby="report-hint">I didn't start this</button>
    <p class="hint" id="report-hint">Denies the request and reports it to your administrators as a possible phishing attempt.</p>
  </div>
</form>`;
  return layout(
    {
      title: `Allow ${r.clientName}?`,
      base: p.base,
      signedIn: { subject: p.subject, ...(p.canSignOut ? { signOutCsrfToken: p.csrfToken } : {}) },
    },
    body,
  );
}
