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

/**
 * Records one finished RPC (started: `performance.now()` when it began):
 * `ok` for an answer, `failed` with what the error interceptor threw. The
 * interceptor below and the gRPC PollToken fast path (src/rpc/grpc-poll-token.ts)
 * both record through it, so their lines and metrics cannot drift apart.
 */
export interface RpcRecorder {
  ok(procedure: string, ip: string, started: number): void;
  failed(procedure: string, ip: string, started: number, e: unknown): void;
}

export function rpcRecorder(
  logger: Logger,
  observe: (procedure: string, outcome: string, seconds: number) => void,
): RpcRecorder {
  const line = (procedure: string, ip: string, started: number, code: string, error?: string) => {
    const ms = performance.now() - started;
    observe(procedure, error ?? code, ms / 1000);
    logger.info(
      {
        rpc: procedure,
        code,
        ...(error ? { error } : {}),
        ms: Math.round(ms * 10) / 10,
        ip,
      },
      "rpc",
    );
  };
  return {
    ok: (procedure, ip, started) => line(procedure, ip, started, "ok"),
    failed: (procedure, ip, started, e) => {
      const ce = ConnectError.from(e);
      const error = ce.findDetails(OAuthErrorSchema)[0]?.error;
      line(procedure, ip, started, Code[ce.code] ?? String(ce.code), error);
    },
  };
}

/** The interceptor over a recorder shared with the fast path. */
export function accessLogInterceptor(record: RpcRecorder): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const procedure = `${req.service.typeName}/${req.method.name}`;
    try {
      const res = await next(req);
      record.ok(procedure, req.contextValues.get(peerAddressKey), started);
      return res;
    } catch (e) {
      record.failed(procedure, req.contextValues.get(peerAddressKey), started, e);
      throw e;
    }
  };
}
