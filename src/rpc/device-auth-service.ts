/** DeviceAuthService over Connect, gRPC and gRPC-Web: proto in, domain call, proto out (errors: src/rpc/error-interceptor.ts). */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  Decision,
  DeviceAuthorizationStatus,
  DeviceAuthService,
  GetDeviceAuthorizationResponseSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import type { DeviceStatus } from "../domain/device-authorization.js";
import type { DeviceFlow } from "../domain/device-flow.js";
import { OAuthError } from "../domain/oauth-error.js";
import type { TokenWaits } from "../domain/token-wait.js";
import { answerAsConnectError } from "./connect-error.js";
import { clientCredentials, peerAddressKey, tokenResponse } from "./rpc-translation.js";
import { requireServiceCredential } from "./service-credential.js";
import { waitTokenStream } from "./wait-token-stream.js";

const STATUS: Record<DeviceStatus, DeviceAuthorizationStatus> = {
  pending: DeviceAuthorizationStatus.PENDING,
  approved: DeviceAuthorizationStatus.APPROVED,
  denied: DeviceAuthorizationStatus.DENIED,
  consumed: DeviceAuthorizationStatus.CONSUMED,
};

export interface DeviceAuthServiceOptions {
  readonly serviceToken: string | undefined;
  /** The open WaitToken streams of this instance. */
  readonly waits: TokenWaits;
  /** A WaitToken heartbeat goes out this often (ms) while the request is undecided. */
  readonly heartbeatMs: number;
}

/** Registers DeviceAuthService on a Connect router. */
export function deviceAuthService(flow: DeviceFlow, options: DeviceAuthServiceOptions) {
  const guard = (ctx: HandlerContext) =>
    requireServiceCredential(ctx.requestHeader.get("authorization"), options.serviceToken);

  return (router: ConnectRouter) =>
    router.service(DeviceAuthService, {
      authorize: async (req, ctx) => {
        const result = await flow.authorize({
          credentials: clientCredentials(req.clientId, req.clientSecret, ctx),
          scopes: req.scopes,
          resources: req.resources,
          ipAddress: ctx.values.get(peerAddressKey),
          userAgent: ctx.requestHeader.get("user-agent") ?? "",
        });
        return { ...result };
      },

      pollToken: async (req, ctx) => {
        const result = await flow.poll(
          clientCredentials(req.clientId, req.clientSecret, ctx),
          req.deviceCode,
        );
        // Connect answers an error only by a throw: a ConnectError made once, here.
        if (!result.ok) throw answerAsConnectError(result.refusal);
        return tokenResponse(result.tokens);
      },

      waitToken: (req, ctx) =>
        waitTokenStream(
          options,
          clientCredentials(req.clientId, req.clientSecret, ctx),
          req.deviceCode,
          ctx.signal,
        ),

      approve: async (req, ctx) => {
        guard(ctx);
        // proto3 enums are open: anything but the two decisions (UNSPECIFIED, or a
        // number from a newer schema) is refused, never read as a denial.
        if (req.decision !== Decision.APPROVE && req.decision !== Decision.DENY) {
          throw new OAuthError(
            "invalid_request",
            "decision must be DECISION_APPROVE or DECISION_DENY",
          );
        }
        const approve = req.decision === Decision.APPROVE;
        const result = await flow.decide({
          userCode: req.userCode,
          subject: req.subject,
          approve,
          scopes: req.scopes,
          approverAddress: ctx.values.get(peerAddressKey),
        });
        return {
          clientId: result.clientId,
          decision: req.decision,
          scopes: [...result.grantedScopes],
        };
      },

      getDeviceAuthorization: async (req, ctx) => {
        guard(ctx);
        const v = await flow.describe(req.userCode);
        return create(GetDeviceAuthorizationResponseSchema, {
          userCode: v.userCode,
          clientId: v.clientId,
          clientName: v.clientName,
          scopes: [...v.scopes],
          resources: [...v.resources],
          createdAt: timestampFromDate(v.createdAt),
          expiresAt: timestampFromDate(v.expiresAt),
          ipAddress: v.ipAddress,
          userAgent: v.userAgent,
          status: STATUS[v.status],
        });
      },
    });
}
