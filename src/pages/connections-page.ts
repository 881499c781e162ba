/** The "Connected devices" page: the person's live grants, each with a Disconnect form. */
import type { ConnectedDevice } from "../domain/connected-devices.js";
import type { GrantOrigin } from "../domain/grant-origin.js";
import { networkHint } from "../domain/network-hint.js";
import { clientOriginTag } from "./client-origin-notice.js";
import { html, type SafeHtml } from "./html.js";
import { layout } from "./page-layout.js";
import { scopeWords } from "./scope-words.js";
import { timeAgo } from "./time-words.js";

export interface ConnectionsPage {
  readonly base: string;
  readonly subject: string;
  readonly canSignOut: boolean;
  readonly csrfToken: string;
  readonly devices: readonly ConnectedDevice[];
  readonly now: Date;
  /** A line at the top after a Disconnect. */
  readonly notice?: string;
}

/** How the approver's address relates to the requester's: a hint, as on the consent screen. */
function approverHint(requester: string, approver: string): string {
  const hint = networkHint(requester, approver);
  switch (hint.kind) {
    case "same_address":
      return " (the same address)";
    case "same_network":
      return ` (the same network, ${hint.network})`;
    case "different":
      return " (another network)";
    case "unknown":
      return "";
  }
}

/**
 * Where the grant came from: "Requested from 203.0.113.7 · curl/8.5.0;
 * approved from 203.0.113.9 (the same network, 203.0.113.0/24)". Nothing for
 * a family recorded before its origin was kept.
 */
function originLine(o: GrantOrigin | undefined): SafeHtml | "" {
  if (o === undefined) return "";
  const from = o.requesterAddress === "" ? "an unknown address" : o.requesterAddress;
  const agent =
    o.requesterUserAgent === ""
      ? ""
      : html` · <span class="mono agent">${o.requesterUserAgent.slice(0, 200)}</span>`;
  const approved =
    o.approverAddress === undefined
      ? ""
      : html`; approved from <span class="mono approver">${o.approverAddress}</span>${approverHint(o.requesterAddress, o.approverAddress)}`;
  return html`<p class="origin">Requested from <span class="mono requester">${from}</span>${agent}${approved}.</p>`;
}

export function connectionsPage(p: ConnectionsPage): string {
  const rows = p.devices.map((d) => {
    const refreshed = d.issuedAt > d.createdAt ? timeAgo(new Date(d.issuedAt), p.now) : "never";
    return html`<li class="connection" data-family="${d.familyId}">
  <h2>${d.clientName} ${clientOriginTag(d.clientOrigin)}</h2>
  <ul class="scopes">${d.scopes.map((s) => html`<li>${scopeWords(s)}</li>`)}</ul>
  ${d.resources.length > 0 ? html`<p>For <span class="mono">${d.resources.join(", ")}</span></p>` : ""}
  <p>Approved ${timeAgo(new Date(d.createdAt), p.now)}; last refreshed ${refreshed}.</p>
  ${originLine(d.origin)}
  <form method="post" action="${p.base}/connections/disconnect">
    <input type="hidden" name="_csrf" value="${p.csrfToken}">
    <input type="hidden" name="family" value="${d.familyId}">
    <button type="submit" class="button danger">Disconnect</button>
  </form>
</li>`;
  });
  const body = html`
<h1>Connected devices</h1>
${p.notice ? html`<p class="lead" role="status">${p.notice}</p>` : ""}
${
  rows.length === 0
    ? html`<p class="lead">No device is connected to your account.</p>`
    : html`<ul class="connections">${rows}</ul>`
}
<a class="button secondary" href="${p.base}">Enter a code</a>`;
  return layout(
    {
      title: "Connected devices",
      base: p.base,
      signedIn: {
        subject: p.subject,
        ...(p.canSignOut ? { signOutCsrfToken: p.csrfToken } : {}),
      },
    },
    body,
  );
}
