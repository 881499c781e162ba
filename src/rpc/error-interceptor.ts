/**
 * The one RPC error path: every call of every service runs through this
 * interceptor, which turns what the domain throws (OAuthError, with its typed
 * `handoff.v1.OAuthError` detail) and anything unexpected (Internal, without
 * internals) into a ConnectError, for unary answers and for the messages of a
 * server stream alike. Handlers only translate messages; they never catch.
 */
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./connect-error.js";

/**
 * Set once a call reaches the interceptors. connect-es reads a unary request
 * before it runs them, so a call without it was answered by connect-es alone
 * (src/server/rpc-request-faults.ts needs to know that).
 */
export const interceptedKey = createContextKey(false, {
  description: "the call reached the interceptors",
});

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `s` with each lone surrogate replaced by U+FFFD (what String.prototype.toWellFormed does, ES2024). */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, "\uFFFD");
}

/**
 * A fault while connect-es reads the client's messages is the client's: of
 * a server stream's request it is read inside the interceptors, and
 * connect-es calls protobuf that does not parse Internal (connect-go says
 * InvalidArgument). Its message may quote half a surrogate pair (V8's
 * JSON.parse messages cut text), which a gRPC trailer cannot carry.
 */
function readFault(e: unknown): unknown {
  if (!(e instanceof ConnectError)) return e;
  const code = e.code === Code.Internal ? Code.InvalidArgument : e.code;
  const message = wellFormed(e.rawMessage);
  if (code === e.code && message === e.rawMessage) return e;
  // connect-es's read faults carry no details.
  return new ConnectError(message, code, e.metadata, undefined, e.cause);
}

async function* readingRequest<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (e) {
    throw readFault(e);
  }
}

async function* answeringStream<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (e) {
    throw toConnectError(e);
  }
}

/** Register it innermost (last), so the other interceptors see ConnectErrors. */
export function errorInterceptor(): Interceptor {
  return (next) => async (req) => {
    req.contextValues.set(interceptedKey, true);
    try {
      const res = await next(req.stream ? { ...req, message: readingRequest(req.message) } : req);
      return res.stream ? { ...res, message: answeringStream(res.message) } : res;
    } catch (e) {
      throw toConnectError(e);
    }
  };
}
