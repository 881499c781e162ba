/** Result pages: approved, denied, and every way a code or request can fail, in words. */
import { html } from "./html.js";
import { layout } from "./page-layout.js";

/** What a result page says. */
export interface OutcomePage {
  readonly base: string;
  readonly title: string;
  readonly message: string;
  readonly tone: "good" | "bad" | "info";
  /** A link back to code entry, labelled. */
  readonly again?: string;
}

const ICON = { good: "✓", bad: "✕", info: "!" } as const;

/** A centred result with an icon, a heading, a sentence and an optional way back. */
export function outcomePage(p: OutcomePage): string {
  const body = html`
<div class="outcome">
  <div class="icon ${p.tone}" aria-hidden="true">${ICON[p.tone]}</div>
  <h1>${p.title}</h1>
  <p class="lead">${p.message}</p>
  ${p.again ? html`<a class="button secondary" href="${p.base}">${p.again}</a>` : ""}
  <p><a href="${p.base}/connections">Connected devices</a></p>
</div>`;
  return layout({ title: p.title, base: p.base }, body);
}

/** After Approve: back to the terminal. */
export const approvedPage = (base: string, clientName: string) =>
  outcomePage({
    base,
    tone: "good",
    title: "Device connected",
    message: `${clientName} can now use your account. Return to your device or terminal: it will continue on its own. You can close this page.`,
  });

/** After Deny: nothing was shared. */
export const deniedPage = (base: string, clientName: string) =>
  outcomePage({
    base,
    tone: "bad",
    title: "Request denied",
    message: `${clientName} was not given access. Return to your device or terminal; you can close this page.`,
  });

/** After "I didn't start this": denied, reported, and what it means. */
export const reportedPage = (base: string, clientName: string, requesterAddress: string) =>
  outcomePage({
    base,
    tone: "bad",
    title: "Denied and reported",
    message: `Thank you. ${clientName} was not given access, and the request has been reported to your administrators as a possible phishing attempt. It was started from ${requesterAddress || "an unknown address"}. If someone asked you to enter this code, they were trying to get into your account: do not enter codes for anyone else. You don't need to do anything more; you can close this page.`,
  });

/** No live request behind the code (expired, or never there). */
export const expiredPage = (base: string) =>
  outcomePage({
    base,
    tone: "info",
    title: "This code has expired",
    message:
      "The request is no longer waiting for an answer. Start again on your device to get a new code.",
    again: "Enter a new code",
  });

/** A request approved or denied before (RFC 8628: one decision per request). */
export const alreadyDecidedPage = (base: string) =>
  outcomePage({
    base,
    tone: "info",
    title: "Already answered",
    message:
      "This request has already been approved or denied, so there is nothing left to do. If that wasn't you, start again on your device.",
    again: "Enter another code",
  });

/** The request's client was disabled (or removed) since the request started: no consent. */
export const clientDisabledPage = (base: string) =>
  outcomePage({
    base,
    tone: "bad",
    title: "This application is disabled",
    message:
      "Your administrators have turned off the application that started this request, so it cannot be connected to your account. Nothing was shared. You can close this page.",
  });
