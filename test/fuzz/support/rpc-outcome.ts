/** What an RPC may answer to hostile input: a client-error code, never Internal or Unknown. */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { expect } from "vitest";

/**
 * Codes that blame the request (or its timing): the caller can act on them.
 * Internal and Unknown would blame the server; Unavailable is for outages,
 * not for input.
 */
export const CLIENT_ERROR_CODES: readonly Code[] = [
  Code.InvalidArgument,
  Code.Unauthenticated,
  Code.NotFound,
  Code.FailedPrecondition,
  Code.PermissionDenied,
  Code.ResourceExhausted,
  Code.DeadlineExceeded,
  Code.Unimplemented,
];

/** gRPC status numbers of the same codes (`grpc-status` trailers). */
export const CLIENT_ERROR_GRPC_STATUSES: readonly number[] = CLIENT_ERROR_CODES.map(Number);

/** Connect's JSON names of the same codes (`{"code": …}` in unary error bodies). */
export const CLIENT_ERROR_CONNECT_NAMES: readonly string[] = [
  "invalid_argument",
  "unauthenticated",
  "not_found",
  "failed_precondition",
  "permission_denied",
  "resource_exhausted",
  "deadline_exceeded",
  "unimplemented",
];

/** The result of a call: the response, or the ConnectError it failed with. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ConnectError };

export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (e) {
    return { ok: false, error: ConnectError.from(e) };
  }
}

/** Fails unless the call failed with a client-error code (one of `codes`, if given). */
export function expectClientError<T>(o: Outcome<T>, codes: readonly Code[] = CLIENT_ERROR_CODES) {
  const value = o.ok
    ? JSON.stringify(o.value, (_k, v) => (typeof v === "bigint" ? String(v) : v))
    : "";
  expect(o.ok, `the call succeeded: ${value.slice(0, 300)}`).toBe(false);
  if (o.ok) return;
  expect(codes, `${Code[o.error.code]}: ${o.error.rawMessage}`).toContain(o.error.code);
}

/** Every way a client reaches the service, by name: Connect JSON and binary, gRPC, gRPC-Web. */
export function transports(baseUrl: string) {
  return {
    "Connect JSON over HTTP/1.1": createConnectTransport({ baseUrl, httpVersion: "1.1" }),
    "Connect binary over HTTP/1.1": createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      useBinaryFormat: true,
    }),
    "Connect binary over h2c": createConnectTransport({
      baseUrl,
      httpVersion: "2",
      useBinaryFormat: true,
    }),
    "gRPC over h2c": createGrpcTransport({ baseUrl }),
    "gRPC-Web over HTTP/1.1": createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }),
  };
}
