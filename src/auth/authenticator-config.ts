/** Choosing the authenticator from configuration. */
import type { SignInTransactionStore } from "../domain/ports/sign-in-transaction-store.js";
import type { Authenticator } from "./authenticator.js";
import { LocalAuthenticator } from "./local-authenticator.js";
import { OidcAuthenticator } from "./oidc-authenticator.js";
import type { SubjectClaim } from "./oidc-claims.js";
import { TrustedHeaderAuthenticator } from "./trusted-header-authenticator.js";
import type { LocalUser } from "./users-file.js";

/** Sign-in through an upstream OpenID Connect provider (HANDOFF_OIDC_*; README "Sign in with your identity provider"). */
export interface OidcConfig {
  readonly kind: "oidc";
  /** The provider's issuer identifier (HANDOFF_OIDC_ISSUER). */
  readonly issuer: string;
  readonly clientId: string;
  /** HANDOFF_OIDC_CLIENT_SECRET or the file HANDOFF_OIDC_CLIENT_SECRET_FILE; absent with `none`. */
  readonly clientSecret?: string;
  readonly clientAuth: "client_secret_basic" | "client_secret_post" | "none";
  /** Space-separated, with `openid` (HANDOFF_OIDC_SCOPES). */
  readonly scopes: string;
  readonly subjectClaim: SubjectClaim;
  /** Lower-case e-mail domains allowed; empty: any. */
  readonly allowedDomains: readonly string[];
  readonly requiredGroup?: { readonly claim: string; readonly value: string };
  /** Seconds per request to the provider (HANDOFF_OIDC_TIMEOUT). */
  readonly timeoutSeconds: number;
  /** Seconds a sign-in may take at the provider (HANDOFF_OIDC_LOGIN_TTL). */
  readonly loginTtlSeconds: number;
}

/** How people sign in to the verification page (HANDOFF_AUTHENTICATOR). */
export type AuthenticatorConfig =
  | { readonly kind: "local"; readonly users: readonly LocalUser[] }
  | {
      readonly kind: "trusted-header";
      /** The header carrying the user name (HANDOFF_TRUSTED_HEADER). */
      readonly header: string;
      /** Addresses or CIDR ranges of the proxies allowed to set it (HANDOFF_TRUSTED_HEADER_PROXIES). */
      readonly proxies: readonly string[];
    }
  | OidcConfig;

/** What an authenticator may need from the server: its issuer and a store for sign-ins in progress. */
export interface AuthenticatorDeps {
  readonly issuer: string;
  readonly transactions: () => SignInTransactionStore;
}

/** Builds the configured authenticator. */
export function createAuthenticator(
  c: AuthenticatorConfig,
  deps: AuthenticatorDeps,
): Authenticator {
  switch (c.kind) {
    case "local":
      return new LocalAuthenticator(c.users);
    case "trusted-header":
      return new TrustedHeaderAuthenticator({ header: c.header, proxies: c.proxies });
    case "oidc":
      return new OidcAuthenticator({
        relyingParty: {
          issuer: c.issuer,
          clientId: c.clientId,
          ...(c.clientSecret === undefined ? {} : { clientSecret: c.clientSecret }),
          clientAuth: c.clientAuth,
          scopes: c.scopes,
          timeoutSeconds: c.timeoutSeconds,
        },
        rules: {
          subjectClaim: c.subjectClaim,
          allowedDomains: c.allowedDomains,
          ...(c.requiredGroup ? { requiredGroup: c.requiredGroup } : {}),
        },
        handoffIssuer: deps.issuer,
        transactions: deps.transactions(),
        loginTtlSeconds: c.loginTtlSeconds,
      });
  }
}
