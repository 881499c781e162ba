/**
 * Waiting on handoff's WaitToken stream (docs/wait-token.md) instead of
 * polling, when the metadata offers it. Anything but a final answer
 * (approved, denied, expired) returns `undefined`: the caller polls instead.
 */
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import {
  DeviceAuthService,
  ErrorCode,
  OAuthErrorSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { abortError, OAuthClientError } from "./client-error.js";
import type { ClientIdentity, Tokens } from "./token-request.js";

const RPC_SUFFIX = "/handoff.v1.DeviceAuthService/WaitToken";

/** The outcome of a wait: tokens, or a hint for the polling that follows. */
export type WaitOutcome =
  | { readonly kind: "tokens"; readonly tokens: Tokens }
  | { readonly kind: "poll"; readonly interval?: number };

/** Opens one stream and waits on it; final errors throw, everything else says "poll". */
export async function waitForTokens(o: {
  readonly endpoint: string;
  readonly client: ClientIdentity;
  readonly deviceCode: string;
  readonly signal?: AbortSignal;
}): Promise<WaitOutcome> {
  if (!o.endpoint.endsWith(RPC_SUFFIX)) return { kind: "poll" };
  const baseUrl = o.endpoint.slice(0, -RPC_SUFFIX.length);
  const rpc = createClient(
    DeviceAuthService,
    createConnectTransport({ baseUrl, httpVersion: "1.1" }),
  );
  try {
    const stream = rpc.waitToken(
      {
        clientId: o.client.clientId,
        clientSecret: o.client.clientSecret ?? "",
        deviceCode: o.deviceCode,
      },
      o.signal ? { signal: o.signal } : {},
    );
    for await (const m of stream) {
      if (m.event.case !== "token") continue;
      const t = m.event.value;
      return {
        kind: "tokens",
        tokens: {
          accessToken: t.accessToken,
          tokenType: t.tokenType,
          expiresAt: Date.now() + t.expiresIn * 1000,
          ...(t.refreshToken ? { refreshToken: t.refreshToken } : {}),
          ...(t.scope ? { scope: t.scope } : {}),
        },
      };
    }
    return { kind: "poll" };
  } catch (e) {
    if (o.signal?.aborted) throw abortError(o.signal);
    const ce = ConnectError.from(e);
    const detail = ce.findDetails(OAuthErrorSchema)[0];
    switch (detail?.code) {
      case ErrorCode.ACCESS_DENIED:
      case ErrorCode.EXPIRED_TOKEN:
      case ErrorCode.INVALID_GRANT:
      case ErrorCode.INVALID_CLIENT:
      case ErrorCode.UNAUTHORIZED_CLIENT:
        throw new OAuthClientError(detail.error, detail.description);
      case ErrorCode.SLOW_DOWN:
        return { kind: "poll", interval: detail.interval };
      default:
        // RESOURCE_EXHAUSTED (stream limit), UNAVAILABLE, a proxy that cuts streams …
        return { kind: "poll" };
    }
  }
}
