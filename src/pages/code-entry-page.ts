/** The page at `verification_uri`: one labelled field for the user code (RFC 8628 §3.3). */
import { html } from "./html.js";
import { layout } from "./page-layout.js";

/** What the code-entry page shows. */
export interface CodeEntryPage {
  readonly base: string;
  readonly subject: string;
  readonly csrfToken: string;
  /** False when a trusted proxy signed the person in: signing out is the proxy's business. */
  readonly canSignOut: boolean;
  /** What to put in the field: the code from `verification_uri_complete`, or what was typed. */
  readonly value?: string;
  /** True when the code came from `verification_uri_complete` (§3.3.1): ask to check it. */
  readonly prefilled?: boolean;
  readonly error?: string;
}

/** Renders the code-entry page; with `prefilled`, it asks the person to check the code instead. */
export function codeEntryPage(p: CodeEntryPage): string {
  const heading = p.prefilled ? "Check the code" : "Connect a device";
  const lead = p.prefilled
    ? "Your device opened this page with the code below. Make sure it matches the code on your device, then continue."
    : "Enter the code shown on your device or in your terminal.";
  const body = html`
<h1>${heading}</h1>
<p class="lead">${lead}</p>
${p.error ? html`<p class="alert" role="alert" id="code-error">${p.error}</p>` : ""}
<form method="post" action="${p.base}" novalidate>
  <input type="hidden" name="_csrf" value="${p.csrfToken}">
  <label for="user_code">Device code</label>
  <input type="text" id="user_code" name="user_code" class="code-input" value="${p.value ?? ""}"
    placeholder="ABCD-EFGH" maxlength="32" autocomplete="off" autocapitalize="characters"
    autocorrect="off" spellcheck="false" aria-describedby="code-hint${p.error ? " code-error" : ""}"
    ${p.prefilled ? "" : html`autofocus`}>
  <p class="hint" id="code-hint">8 letters and digits, like ABCD-EFGH. Upper or lower case, with or without the dash.</p>
  <button type="submit" class="primary block" ${p.prefilled ? html`autofocus` : ""}>Continue</button>
</form>
<p><a href="${p.base}/connections">Connected devices</a></p>`;
  return layout(
    {
      title: heading,
      base: p.base,
      signedIn: { subject: p.subject, ...(p.canSignOut ? { signOutCsrfToken: p.csrfToken } : {}) },
    },
    body,
  );
}
