/** The frame around every verification page: head, brand bar, signed-in user, footer. */
import { html, type SafeHtml } from "./html.js";
import { ASSET_NAMES } from "./static-assets.js";

/** The parts of the frame that vary by page. */
export interface LayoutOptions {
  readonly title: string;
  /** The pages' base path, e.g. `/device`. */
  readonly base: string;
  /**
   * Shown in the bar, with a sign-out button (a form post, so it needs a CSRF
   * token) unless the sign-in is not ours to end (a trusted proxy's).
   */
  readonly signedIn?: { readonly subject: string; readonly signOutCsrfToken?: string };
}

/** A complete HTML document. Styles and script come from hashed files: no inline code (CSP). */
export function layout(o: LayoutOptions, body: SafeHtml): string {
  const token = o.signedIn?.signOutCsrfToken;
  const who = o.signedIn
    ? html`<div class="who">
        <span>Signed in as <strong>${o.signedIn.subject}</strong></span>
        ${
          token
            ? html`<form method="post" action="${o.base}/sign-out">
          <input type="hidden" name="_csrf" value="${token}">
          <button type="submit" class="link-button">Sign out</button>
        </form>`
            : ""
        }
      </div>`
    : "";
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${o.title} · handoff</title>
<link rel="stylesheet" href="${o.base}/assets/${ASSET_NAMES.style}">
<script src="${o.base}/assets/${ASSET_NAMES.script}" defer></script>
</head>
<body>
<header class="bar">
  <a class="brand" href="${o.base}"><span class="brand-mark" aria-hidden="true"></span>handoff</a>
  ${who}
</header>
<main>
<div class="card">
${body}
</div>
</main>
<footer>Device sign-in</footer>
</body>
</html>
`.text;
}
