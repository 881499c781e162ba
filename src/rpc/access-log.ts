/**
 * One access-log line per RPC, like the HTTP side's: procedure (one `rpc`
 * field, `handoff.v1.DeviceAuthService/Approve`: the logger's base `service`
 * field keeps its one meaning), outcome, duration and the client's address
 * (behind HANDOFF_TRUST_PROXY as resolved for every RPC), so failed service
 * credentials can be traced; never message contents. The same outcome and duration go to
 * `observe` (the RPC duration histogram).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import { peerAddressKey } from "./rpc-translation.js";

export function accessLogInterceptor(
  logger: Logger,
  observe: (procedure: string, outcome: string, seconds: number) => void,
): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const line = (code: string, error?: string) => {
      const ms = performance.now() - started;
      const procedure = `${req.service.typeName}/${req.method.name}`;
      observe(procedure, error ?? code, ms / 1000);
      logger.info(
        {
          rpc: procedure,
          code,
          ...(error ? { error } : {}),
          ms: Math.round(ms * 10) / 10,
          ip: req.contextValues.get(peerAddressKey),
        },
        "rpc",
      );
    };
    try {
      const res = await next(req);
      line("ok");
      return res;
    } catch (e) {
      const ce = ConnectError.from(e);
      const error = ce.findDetails(OAuthErrorSchema)[0]?.error;
      line(Code[ce.code] ?? String(ce.code), error);
      throw e;
    }
  };
}
