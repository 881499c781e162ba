/**
 * What connect-es 2.1.1 answers on its own, before any interceptor runs, and
 * gets wrong. The error interceptor (src/rpc/error-interceptor.ts) handles
 * everything once a call reaches it, and the request encodings
 * (src/rpc/request-compression.ts) blame a body that does not decompress on
 * the client; two behaviours are left that no public option or interceptor
 * can reach, because connect-es reads a unary request before it invokes the
 * interceptors (protocol/invoke-implementation.js, invokeUnaryImplementation):
 *
 * 1. A unary request whose message cannot be read is answered Internal
 *    (which says the server is broken: alerts, retries), where connect-go
 *    says InvalidArgument: protobuf that does not parse
 *    (protocol/serialization.js, createBinarySerialization: `parse binary: …`,
 *    Code.Internal), and an envelope flagged compressed in a request that
 *    names no encoding (protocol/envelope.js, envelopeDecompress, Code.Internal).
 *    Recognised by cause, not by message text: the call never reached the
 *    interceptors (their context flag is unset) and the answer's code is
 *    Internal, so connect-es made it while reading the request. It is answered
 *    InvalidArgument with connect-es's message.
 * 2. A gRPC or gRPC-Web error whose message holds a lone surrogate is never
 *    answered: protocol-grpc/trailer-status.js, setTrailerStatus, calls
 *    encodeURIComponent(error.rawMessage), which throws URIError, and V8's
 *    JSON.parse messages quote the text around the error, cutting a surrogate
 *    pair in half (gRPC-Web+JSON with an emoji). The handler's promise rejects
 *    and the call hung until the client gave up. It is answered
 *    InvalidArgument with a fixed message.
 *
 * Both were found by test/fuzz/rpc-framing.test.ts; test/rpc/connect-es-faults.test.ts
 * asserts the raw connect-es behaviour and fails the day connect-es changes it,
 * so this file can go.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import {
  createAsyncIterable,
  readAllBytes,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { interceptedKey, wellFormed } from "../rpc/error-interceptor.js";

const GRPC_INTERNAL = "13";
const GRPC_INVALID_ARGUMENT = "3";
const GRPC_WEB_TRAILER_FLAG = 0x80;
/** An answer connect-es made alone is a few hundred bytes; read no more than this of it. */
const ANSWER_MAX_BYTES = 64 * 1024;

/** Wraps every handler on the router (call after registering the services). */
export function requestFaultsAsInvalidArgument(router: ConnectRouter): void {
  router.handlers.forEach((handler, i) => {
    router.handlers[i] = Object.assign(async (req: UniversalServerRequest) => {
      let res: UniversalServerResponse;
      try {
        res = await handler(req);
      } catch (e) {
        if (e instanceof URIError) return invalidArgument(req.header, "the request is malformed");
        throw e;
      }
      if (req.contextValues?.get(interceptedKey) === true) return res;
      return (await internalAnswer(res)) ?? res;
    }, handler);
  });
}

/** connect-es's answer as InvalidArgument if it is Internal; undefined otherwise. */
async function internalAnswer(
  res: UniversalServerResponse,
): Promise<UniversalServerResponse | undefined> {
  if (res.body === undefined || res.header?.has("content-encoding")) return undefined;
  const type = res.header?.get("content-type") ?? "";
  // Connect unary: the code is the HTTP status (500 for Internal), the message in a JSON body.
  if (type.startsWith("application/json")) {
    if (res.status !== 500) return undefined;
    const bytes = await readAllBytes(res.body, ANSWER_MAX_BYTES);
    const error = JSON.parse(new TextDecoder().decode(bytes)) as {
      code?: string;
      message?: string;
    };
    return error.code === "internal"
      ? invalidArgument(res.header, error.message ?? "")
      : { ...res, body: createAsyncIterable([bytes]) };
  }
  // gRPC: the status is in the trailers, set before the handler resolves (no message was sent).
  if (type.startsWith("application/grpc") && !type.startsWith("application/grpc-web")) {
    if (res.trailer?.get("grpc-status") !== GRPC_INTERNAL) return undefined;
    res.trailer.set("grpc-status", GRPC_INVALID_ARGUMENT);
    return res;
  }
  // gRPC-Web: the trailers are the body's one frame.
  if (type.startsWith("application/grpc-web")) {
    const bytes = await readAllBytes(res.body, ANSWER_MAX_BYTES);
    const trailer = bytes[0] === GRPC_WEB_TRAILER_FLAG ? webTrailer(bytes) : undefined;
    if (trailer?.get("grpc-status") !== GRPC_INTERNAL) {
      return { ...res, body: createAsyncIterable([bytes]) };
    }
    trailer.set("grpc-status", GRPC_INVALID_ARGUMENT);
    return { ...res, body: createAsyncIterable([webTrailerFrame(trailer)]) };
  }
  return undefined;
}

/** The fields of a gRPC-Web trailer frame (`name: value\r\n` lines after a 5-byte prefix). */
function webTrailer(frame: Uint8Array): Headers {
  const trailer = new Headers();
  for (const line of new TextDecoder().decode(frame.subarray(5)).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) trailer.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return trailer;
}

function webTrailerFrame(trailer: Headers): Uint8Array {
  let text = "";
  trailer.forEach((value, name) => {
    text += `${name}: ${value}\r\n`;
  });
  const data = new TextEncoder().encode(text);
  const frame = new Uint8Array(5 + data.byteLength);
  new DataView(frame.buffer).setUint32(1, data.byteLength);
  frame[0] = GRPC_WEB_TRAILER_FLAG;
  frame.set(data, 5);
  return frame;
}

/** InvalidArgument in the protocol a content type names, with `message`. */
function invalidArgument(header: Headers | undefined, message: string): UniversalServerResponse {
  const type = header?.get("content-type") ?? "";
  const json = type.includes("json");
  const grpcMessage = encodeURIComponent(wellFormed(message));
  if (type.startsWith("application/grpc-web")) {
    const trailer = new Headers({
      "grpc-status": GRPC_INVALID_ARGUMENT,
      "grpc-message": grpcMessage,
    });
    return {
      status: 200,
      header: new Headers({ "content-type": `application/grpc-web+${json ? "json" : "proto"}` }),
      body: createAsyncIterable([webTrailerFrame(trailer)]),
    };
  }
  if (type.startsWith("application/grpc")) {
    return {
      status: 200,
      header: new Headers({ "content-type": `application/grpc+${json ? "json" : "proto"}` }),
      body: createAsyncIterable([]),
      trailer: new Headers({ "grpc-status": GRPC_INVALID_ARGUMENT, "grpc-message": grpcMessage }),
    };
  }
  const body = new TextEncoder().encode(JSON.stringify({ code: "invalid_argument", message }));
  return {
    status: 400,
    header: new Headers({
      "content-type": "application/json",
      "content-length": String(body.byteLength),
    }),
    body: createAsyncIterable([body]),
  };
}
