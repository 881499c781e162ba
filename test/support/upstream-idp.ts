/**
 * node-oidc-provider 9 as the company's identity provider, in this process
 * on a free loopback port: handoff signs people in through it
 * (HANDOFF_AUTHENTICATOR=oidc). Its development login form takes any
 * password; the account name picks one of the fixed people below. Consent
 * is pre-granted for handoff (a first-party application at the provider),
 * so the browser sees the provider's login form only.
 */
import type { Server } from "node:http";
// @ts-expect-error oidc-provider ships no types (@types/oidc-provider is not installed)
import Provider from "oidc-provider";
import type { Page } from "playwright-core";
import { freePort } from "./free-port.js";

export const IDP_CLIENT_ID = "handoff-at-idp";
export const IDP_CLIENT_SECRET = "idp-client-secret-9f2c7e1a4b8d3f6e0a5c";

/** The people the provider knows, by the login name typed at its form. */
export const IDP_PEOPLE: Record<string, Record<string, unknown>> = {
  alice: {
    sub: "idp-0001-alice",
    email: "Alice@Example.com",
    email_verified: true,
    preferred_username: "alice",
    name: "Alice Example",
    groups: ["handoff-users", "engineering"],
  },
  bob: {
    sub: "idp-0002-bob",
    email: "bob@example.com",
    email_verified: true,
    preferred_username: "bob",
    groups: ["sales"],
  },
  mallory: {
    sub: "idp-0003-mallory",
    email: "mallory@elsewhere.test",
    email_verified: true,
    preferred_username: "mallory",
    groups: ["handoff-users"],
  },
  unverified: {
    sub: "idp-0004-unverified",
    email: "new@example.com",
    email_verified: false,
    preferred_username: "unverified",
    groups: ["handoff-users"],
  },
};

export interface UpstreamIdp {
  readonly issuer: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A free port for the provider, so handoff can be configured with its issuer before it starts. */
export const idpPort = freePort;

/** Starts the provider on `port` with handoff's callback as its client's one redirect URI. */
export async function startUpstreamIdp(port: number, redirectUri: string): Promise<UpstreamIdp> {
  const issuer = `http://127.0.0.1:${port}`;
  const scopes = "openid email profile groups";
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: IDP_CLIENT_ID,
        client_secret: IDP_CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    claims: {
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
      groups: ["groups"],
    },
    scopes: ["openid", "email", "profile", "groups"],
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ["upstream-idp-test-cookie-key-0123456789"] },
    async findAccount(_ctx: unknown, id: string) {
      const person = IDP_PEOPLE[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ ...person, sub: id }) };
    },
    // First-party at the provider: consent is granted, only the login form shows.
    async loadExistingGrant(ctx: {
      oidc: {
        provider: { Grant: new (o: object) => GrantLike } & {
          Grant: { find(id: string): Promise<GrantLike> };
        };
        client: { clientId: string };
        session: { accountId: string; grantIdFor(clientId: string): string | undefined };
        result?: { consent?: { grantId?: string } };
      };
    }) {
      const { oidc } = ctx;
      const existing =
        oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      if (existing) return oidc.provider.Grant.find(existing);
      const grant = new oidc.provider.Grant({
        clientId: oidc.client.clientId,
        accountId: oidc.session.accountId,
      });
      grant.addOIDCScope(scopes);
      await grant.save();
      return grant;
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, "127.0.0.1", () => resolve(s));
  });
  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface GrantLike {
  addOIDCScope(scope: string): void;
  save(): Promise<string>;
}

/** Signs in on the provider's development login form the browser was sent to. */
export async function signInAtIdp(page: Page, login: string): Promise<void> {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any password works here");
  await page.getByRole("button", { name: "Sign-in" }).click();
}
