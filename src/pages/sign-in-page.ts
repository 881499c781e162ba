/** The sign-in pages an authenticator can show (see src/auth/authenticator.ts). */
import type { SignInPage } from "../auth/authenticator.js";
import { html } from "./html.js";
import { outcomePage } from "./outcome-pages.js";
import { layout } from "./page-layout.js";

/** Renders a sign-in page in the product's layout. */
export function signInPage(base: string, page: SignInPage): string {
  if (page.kind === "proxy-required") {
    return outcomePage({
      base,
      tone: "info",
      title: "Sign in through your organisation",
      message:
        "This page is only available through your organisation's sign-in. Open it from the usual address, or ask your administrator.",
    });
  }
  if (page.kind === "notice") {
    const { tone, title, message } = page;
    return outcomePage({ base, tone, title, message, again: "Start again" });
  }
  const body = html`
<h1>Sign in</h1>
<p class="lead">Sign in to connect a device to your account.</p>
${page.error ? html`<p class="alert" role="alert">${page.error}</p>` : ""}
<form method="post" action="${base}/sign-in">
  <input type="hidden" name="_csrf" value="${page.csrfToken}">
  <input type="hidden" name="return_to" value="${page.returnTo}">
  <label for="username">User name</label>
  <input type="text" id="username" name="username" value="${page.username ?? ""}" autocomplete="username"
    autocapitalize="none" spellcheck="false" required ${page.username ? "" : html`autofocus`}>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required
    ${page.username ? html`autofocus` : ""}>
  <button type="submit" class="primary block">Sign in</button>
</form>`;
  return layout({ title: "Sign in", base }, body);
}
