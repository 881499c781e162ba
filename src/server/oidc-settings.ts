/**
 * HANDOFF_OIDC_* turned into the `oidc` authenticator's configuration, and
 * what `handoff start` refuses about it: a provider over plain http (its ID
 * tokens and codes would cross the network readable and changeable; only a
 * provider on this machine under `start-dev` may use http), a confidential
 * client without its secret, scopes without `openid`. Each message names
 * the setting.
 */
import { readFile } from "node:fs/promises";
import type { OidcConfig } from "../auth/authenticator-config.js";
import { isLoopbackIssuer } from "../auth/oidc-issuer.js";
import type { Settings } from "../config/settings.js";

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** Problems with the settings that stop the start, each naming its setting. */
export function oidcSettingProblems(s: Settings, mode: "development" | "production"): string[] {
  const problems: string[] = [];
  if (!s.HANDOFF_OIDC_ISSUER) {
    problems.push(
      "HANDOFF_OIDC_ISSUER: required with HANDOFF_AUTHENTICATOR=oidc (your identity provider's issuer URL)",
    );
  } else if (new URL(s.HANDOFF_OIDC_ISSUER).protocol !== "https:") {
    if (mode === "production") {
      problems.push(
        "HANDOFF_OIDC_ISSUER: must be https: codes and ID tokens would cross the network in the clear",
      );
    } else if (!isLoopbackIssuer(s.HANDOFF_OIDC_ISSUER)) {
      problems.push(
        "HANDOFF_OIDC_ISSUER: must be https, except a provider on this machine (127.0.0.1, ::1, localhost) under start-dev",
      );
    }
  }
  if (!s.HANDOFF_OIDC_CLIENT_ID) {
    problems.push(
      "HANDOFF_OIDC_CLIENT_ID: required with HANDOFF_AUTHENTICATOR=oidc (handoff's client id at the provider)",
    );
  }
  const hasSecret = Boolean(s.HANDOFF_OIDC_CLIENT_SECRET || s.HANDOFF_OIDC_CLIENT_SECRET_FILE);
  if (s.HANDOFF_OIDC_CLIENT_SECRET && s.HANDOFF_OIDC_CLIENT_SECRET_FILE) {
    problems.push(
      "HANDOFF_OIDC_CLIENT_SECRET, HANDOFF_OIDC_CLIENT_SECRET_FILE: set one or the other, not both",
    );
  }
  if (s.HANDOFF_OIDC_CLIENT_AUTH !== "none" && !hasSecret) {
    problems.push(
      `HANDOFF_OIDC_CLIENT_SECRET: required with HANDOFF_OIDC_CLIENT_AUTH=${s.HANDOFF_OIDC_CLIENT_AUTH} (a confidential client; or set HANDOFF_OIDC_CLIENT_SECRET_FILE)`,
    );
  }
  if (s.HANDOFF_OIDC_CLIENT_AUTH === "none" && hasSecret) {
    problems.push(
      "HANDOFF_OIDC_CLIENT_AUTH: is none (a public client) but a client secret is set; choose client_secret_basic or client_secret_post",
    );
  }
  if (!s.HANDOFF_OIDC_SCOPES.split(" ").includes("openid")) {
    problems.push("HANDOFF_OIDC_SCOPES: must include openid (OpenID Connect Core 1.0 §3.1.2.1)");
  }
  for (const d of allowedDomains(s)) {
    if (!DOMAIN.test(d)) problems.push(`HANDOFF_OIDC_ALLOWED_DOMAINS: not a domain name: ${d}`);
  }
  return problems;
}

const allowedDomains = (s: Settings) =>
  (s.HANDOFF_OIDC_ALLOWED_DOMAINS ?? "")
    .split(",")
    .map((d) => d.trim().toLowerCase())
    .filter((d) => d !== "");

/** The authenticator's configuration; throws with every problem, each naming its setting. */
export async function oidcConfig(
  s: Settings,
  mode: "development" | "production",
): Promise<OidcConfig> {
  const problems = oidcSettingProblems(s, mode);
  if (problems.length > 0) {
    throw new Error(`handoff refuses these sign-in settings:\n  ${problems.join("\n  ")}`);
  }
  let clientSecret = s.HANDOFF_OIDC_CLIENT_SECRET;
  if (s.HANDOFF_OIDC_CLIENT_SECRET_FILE) {
    try {
      clientSecret = (await readFile(s.HANDOFF_OIDC_CLIENT_SECRET_FILE, "utf8")).replace(
        /\r?\n$/,
        "",
      );
    } catch (e) {
      throw new Error(
        `HANDOFF_OIDC_CLIENT_SECRET_FILE: cannot read ${s.HANDOFF_OIDC_CLIENT_SECRET_FILE} (${(e as NodeJS.ErrnoException).code})`,
      );
    }
    if (clientSecret === "") throw new Error("HANDOFF_OIDC_CLIENT_SECRET_FILE: the file is empty");
  }
  return {
    kind: "oidc",
    issuer: s.HANDOFF_OIDC_ISSUER as string,
    clientId: s.HANDOFF_OIDC_CLIENT_ID as string,
    ...(clientSecret === undefined ? {} : { clientSecret }),
    clientAuth: s.HANDOFF_OIDC_CLIENT_AUTH,
    scopes: s.HANDOFF_OIDC_SCOPES,
    subjectClaim: s.HANDOFF_OIDC_SUBJECT_CLAIM,
    allowedDomains: allowedDomains(s),
    ...(s.HANDOFF_OIDC_REQUIRED_GROUP
      ? {
          requiredGroup: {
            claim: s.HANDOFF_OIDC_GROUP_CLAIM,
            value: s.HANDOFF_OIDC_REQUIRED_GROUP,
          },
        }
      : {}),
    timeoutSeconds: s.HANDOFF_OIDC_TIMEOUT,
    loginTtlSeconds: s.HANDOFF_OIDC_LOGIN_TTL,
  };
}
