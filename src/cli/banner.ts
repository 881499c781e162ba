/** The start-dev banner: where things are and a copy-paste tour of the flow. */
import { DEMO_CLIENT, DEMO_USER, DEV_SERVICE_TOKEN } from "../config/dev-seed.js";

/** How the page signs people in, for the banner: the demo user unless the settings say otherwise. */
export function signInHint(s: {
  HANDOFF_AUTHENTICATOR: string;
  HANDOFF_USERS_FILE?: string | undefined;
  HANDOFF_OIDC_ISSUER?: string | undefined;
  HANDOFF_TRUSTED_HEADER: string;
}): string {
  if (s.HANDOFF_AUTHENTICATOR === "oidc") return `sign in at ${s.HANDOFF_OIDC_ISSUER}`;
  if (s.HANDOFF_AUTHENTICATOR === "trusted-header")
    return `signed in by your proxy's ${s.HANDOFF_TRUSTED_HEADER} header`;
  if (s.HANDOFF_USERS_FILE) return "sign in as a user of HANDOFF_USERS_FILE";
  return `sign in as ${DEMO_USER.username} / ${DEMO_USER.password}`;
}

/** The banner; `exposed` is set when HANDOFF_HOST is not loopback, and leads with a warning. */
export function devBanner(
  issuer: string,
  store: string,
  serviceToken: string | undefined,
  exposed?: string,
  signIn = signInHint({ HANDOFF_AUTHENTICATOR: "local", HANDOFF_TRUSTED_HEADER: "" }),
): string {
  const token = serviceToken === DEV_SERVICE_TOKEN ? DEV_SERVICE_TOKEN : "$HANDOFF_SERVICE_TOKEN";
  const warning =
    exposed === undefined
      ? ""
      : `
  WARNING: listening on ${exposed}, beyond this machine. Anyone who can reach it can call
  Approve with the published dev token and sign in as ${DEMO_USER.username}/${DEMO_USER.password}.
  Unset HANDOFF_HOST (127.0.0.1) unless you mean that; use \`handoff start\` for real use.
`;
  return `${warning}
  handoff (development) is up: ${issuer}   store: ${store}

  metadata   ${issuer}/.well-known/oauth-authorization-server
  device     POST ${issuer}/oauth/device/authorize
  authorize  GET  ${issuer}/oauth/authorize   (authorization code + PKCE S256)
  token      POST ${issuer}/oauth/token   (device code, authorization code and refresh grants)
  register   POST ${issuer}/oauth/register   (RFC 7591)
  revoke     POST ${issuer}/oauth/revoke      introspect  POST ${issuer}/oauth/introspect
  jwks       ${issuer}/.well-known/jwks.json
  verify     ${issuer}/device   (${signIn})
  rpc        ${issuer}/handoff.v1.DeviceAuthService/*, ${issuer}/handoff.v1.TokenService/*
             (Connect, gRPC and gRPC-Web on this same port)

  Try it:
  1. curl -s ${issuer}/oauth/device/authorize -d client_id=${DEMO_CLIENT.id}
  2. open the verification_uri_complete it prints, sign in, compare the code, Approve
     (or, as an internal service: curl -s ${issuer}/handoff.v1.DeviceAuthService/Approve \\
       -H 'content-type: application/json' -H 'authorization: Bearer ${token}' \\
       -d '{"userCode":"<user_code>","subject":"demo","decision":"DECISION_APPROVE"}')
  3. curl -s ${issuer}/oauth/token -d client_id=${DEMO_CLIENT.id} \\
       -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d device_code=<device_code>
  Or all three in one: handoff login --issuer ${issuer}   (then: handoff token --issuer ${issuer})
`;
}
