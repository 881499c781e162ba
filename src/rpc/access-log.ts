/**
 * One access-log line per RPC, like the HTTP side's: procedure, outcome,
 * duration; never message contents. The same outcome and duration go to
 * `observe` (the RPC duration histogram).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { OAuthErrorSchema } from "../../gen/handoff/v1/device_auth_pb.js";

export function accessLogInterceptor(
  logger: Logger,
  observe: (procedure: string, outcome: string, seconds: number) => void,
): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const line = (code: string, error?: string) => {
      const ms = performance.now() - started;
      observe(`${req.service.typeName}/${req.method.name}`, error ?? code, ms / 1000);
      logger.info(
        {
          rpc: req.method.name,
          service: req.service.typeName,
          code,
          ...(error ? { error } : {}),
          ms: Math.round(ms * 10) / 10,
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
