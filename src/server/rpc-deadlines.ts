/**
 * A client's RPC deadline longer than Node's timers can hold is shortened to
 * the longest they can. connect-es arms one setTimeout per call from the
 * `grpc-timeout` (gRPC, gRPC-Web) or `connect-timeout-ms` (Connect) header;
 * `grpc-timeout: 99999999H` is valid gRPC (up to 8 digits and a unit) but is
 * 3.6e14 ms, which Node replaces by 1 ms: the call would fail
 * DEADLINE_EXCEEDED at once, and the process prints a TimeoutOverflowWarning
 * (found by test/fuzz/rpc-framing.test.ts). About 24.8 days is as good as no
 * deadline for a call the server's own timeouts end far sooner.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import { MAX_TIMER_DELAY_MS } from "../domain/timer-delay.js";

const GRPC_TIMEOUT = "grpc-timeout";
const CONNECT_TIMEOUT = "connect-timeout-ms";
/** gRPC's TimeoutValue (at most 8 digits) and TimeoutUnit, as connect-es parses them. */
const GRPC_TIMEOUT_VALUE = /^(\d{1,8})([HMSmun])$/;
const GRPC_UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};
/** The longest deadline in whole seconds: 7 digits, so within gRPC's 8. */
const GRPC_MAX = `${Math.floor(MAX_TIMER_DELAY_MS / 1000)}S`;
const CONNECT_TIMEOUT_VALUE = /^\d{1,10}$/;

/** Wraps every handler on the router (call after registering the services). */
export function deadlinesWithinTimerRange(router: ConnectRouter): void {
  router.handlers.forEach((handler, i) => {
    router.handlers[i] = Object.assign((req: UniversalServerRequest) => {
      clampDeadlineHeaders(req.header);
      return handler(req);
    }, handler);
  });
}

/** Rewrites a deadline header past MAX_TIMER_DELAY_MS to that much; malformed ones are left for the library to refuse. */
export function clampDeadlineHeaders(header: Headers): void {
  const grpc = header.get(GRPC_TIMEOUT);
  const g = grpc === null ? null : GRPC_TIMEOUT_VALUE.exec(grpc);
  if (g !== null && Number(g[1]) * (GRPC_UNIT_MS[g[2] as string] ?? 0) > MAX_TIMER_DELAY_MS) {
    header.set(GRPC_TIMEOUT, GRPC_MAX);
  }
  const connect = header.get(CONNECT_TIMEOUT);
  if (
    connect !== null &&
    CONNECT_TIMEOUT_VALUE.test(connect) &&
    Number(connect) > MAX_TIMER_DELAY_MS
  ) {
    header.set(CONNECT_TIMEOUT, String(MAX_TIMER_DELAY_MS));
  }
}
