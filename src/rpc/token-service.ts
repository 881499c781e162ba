/** TokenService over Connect, gRPC and gRPC-Web: proto in, the token lifecycle, proto out (errors: src/rpc/error-interceptor.ts). */
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  IntrospectResponseSchema,
  TokenService,
  TokenTypeHint,
} from "../../gen/handoff/v1/token_service_pb.js";
import { bearerToken } from "../domain/bearer-credential.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { CallerCredentials } from "../tokens/token-caller.js";
import type { TokenLifecycle } from "../tokens/token-lifecycle.js";
import type { TokenTypeHint as DomainHint } from "../tokens/token-revocation.js";
import { clientCredentials, tokenResponse } from "./rpc-translation.js";

const HINT: Record<TokenTypeHint, DomainHint | undefined> = {
  [TokenTypeHint.UNSPECIFIED]: undefined,
  [TokenTypeHint.ACCESS_TOKEN]: "access_token",
  [TokenTypeHint.REFRESH_TOKEN]: "refresh_token",
};

/**
 * A request with a client_id is a client; without one, the caller must
 * present the service credential as `Authorization: Bearer`.
 */
function callerOf(ctx: HandlerContext, clientId: string, clientSecret: string): CallerCredentials {
  if (clientId !== "") return { client: clientCredentials(clientId, clientSecret, ctx) };
  const bearer = bearerToken(ctx.requestHeader.get("authorization"));
  return bearer === undefined ? {} : { bearer };
}

function requireToken(token: string): string {
  if (token === "") throw new OAuthError("invalid_request", "token is required");
  return token;
}

/** Registers TokenService on a Connect router. */
export function tokenService(lifecycle: TokenLifecycle) {
  return (router: ConnectRouter) =>
    router.service(TokenService, {
      refresh: async (req, ctx) => {
        if (req.refreshToken === "") {
          throw new OAuthError("invalid_request", "refresh_token is required");
        }
        const t = await lifecycle.refresh({
          credentials: clientCredentials(req.clientId, req.clientSecret, ctx),
          refreshToken: req.refreshToken,
          scopes: req.scopes,
          resources: req.resources,
        });
        return tokenResponse(t);
      },

      revoke: async (req, ctx) => {
        await lifecycle.revoke(
          callerOf(ctx, req.clientId, req.clientSecret),
          requireToken(req.token),
          HINT[req.tokenTypeHint],
        );
        return {};
      },

      introspect: async (req, ctx) => {
        const r = await lifecycle.introspect(
          callerOf(ctx, req.clientId, req.clientSecret),
          requireToken(req.token),
          HINT[req.tokenTypeHint],
        );
        if (!r.active) return create(IntrospectResponseSchema, { active: false });
        return create(IntrospectResponseSchema, {
          active: true,
          scope: r.scope,
          clientId: r.client_id,
          sub: r.sub,
          aud: [...r.aud],
          iss: r.iss,
          exp: timestampFromMs(r.exp * 1000),
          iat: timestampFromMs(r.iat * 1000),
          jti: r.jti ?? "",
          tokenType: r.token_type,
        });
      },
    });
}
