/**
 * A request the RPC library cannot read (protobuf cut short, a broken gzip
 * body, a compressed frame without an encoding) is the client's fault:
 * InvalidArgument, as the same library says for broken JSON, not Internal.
 */
import type { ConnectRouter } from "@connectrpc/connect";
import {
  createAsyncIterable,
  readAllBytes,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";

// connect-es reports these as Internal (connect-go says InvalidArgument for an
// unreadable message). Internal says the server is broken (alerts, retries); the
// fuzz tests sent such bytes over every protocol and got it
// (test/fuzz/rpc-framing.test.ts). The errors are made before any handler or
// interceptor runs, so the answer is corrected on its way out, for these only.
const REQUEST_FAULTS = [
  "parse binary:",
  "decompression failed",
  "received compressed envelope, but do not know how to decompress",
];
// grpc-message is percent-encoded.
const REQUEST_FAULTS_IN_TRAILER = REQUEST_FAULTS.map(encodeURIComponent);
const GRPC_INTERNAL = "13";
const GRPC_INVALID_ARGUMENT = "3";
const GRPC_WEB_TRAILER_FLAG = 0x80;

const isFault = (message: string | undefined | null, faults: readonly string[]) =>
  message != null && faults.some((f) => message.startsWith(f));

/** Wraps every handler on the router (call after registering the services). */
export function requestFaultsAsInvalidArgument(router: ConnectRouter): void {
  router.handlers.forEach((handler, i) => {
    router.handlers[i] = Object.assign(async (req: UniversalServerRequest) => {
      try {
        return await reclassify(await handler(req));
      } catch (e) {
        // The library failed to write its own error: a gRPC trailer must be
        // percent-encoded, and encodeURIComponent throws on a lone surrogate,
        // which V8's JSON.parse messages quote when they cut a pair in half
        // (gRPC-Web+JSON with an emoji). The call was never answered and hung
        // until the client gave up (found by test/fuzz/rpc-framing.test.ts).
        if (e instanceof URIError) return malformed(req);
        throw e;
      }
    }, handler);
  });
}

/** InvalidArgument in the request's protocol, with a fixed message. */
function malformed(req: UniversalServerRequest): UniversalServerResponse {
  const type = req.header.get("content-type") ?? "";
  const message = "the request is malformed";
  const json = type.includes("json");
  if (type.startsWith("application/grpc-web")) {
    const trailer = `grpc-status: ${GRPC_INVALID_ARGUMENT}\r\ngrpc-message: ${encodeURIComponent(message)}\r\n`;
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
      trailer: new Headers({
        "grpc-status": GRPC_INVALID_ARGUMENT,
        "grpc-message": encodeURIComponent(message),
      }),
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

async function reclassify(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  const type = res.header?.get("content-type") ?? "";
  if (res.body === undefined || res.header?.has("content-encoding")) return res;
  // Connect unary: the error is a JSON body with an HTTP status.
  if (res.status === 500 && type.startsWith("application/json")) {
    const bytes = await readAllBytes(res.body, Number.MAX_SAFE_INTEGER);
    const error = JSON.parse(new TextDecoder().decode(bytes)) as {
      code?: string;
      message?: string;
    };
    if (error.code !== "internal" || !isFault(error.message, REQUEST_FAULTS)) {
      return { ...res, body: createAsyncIterable([bytes]) };
    }
    const body = new TextEncoder().encode(JSON.stringify({ ...error, code: "invalid_argument" }));
    res.header?.set("content-length", String(body.byteLength));
    return { ...res, status: 400, body: createAsyncIterable([body]) };
  }
  if (!type.startsWith("application/grpc")) return res;
  // gRPC: the status is in the trailers, final once the body is done.
  // gRPC-Web: it is in the body's last frame.
  const web = type.startsWith("application/grpc-web");
  const trailer = res.trailer;
  const body = res.body;
  return {
    ...res,
    body: (async function* () {
      for await (const chunk of body) yield web ? reclassifyWebTrailer(chunk) : chunk;
      if (
        trailer?.get("grpc-status") === GRPC_INTERNAL &&
        isFault(trailer.get("grpc-message"), REQUEST_FAULTS_IN_TRAILER)
      ) {
        trailer.set("grpc-status", GRPC_INVALID_ARGUMENT);
      }
    })(),
  };
}

/** Rewrites a gRPC-Web trailer frame (one frame per chunk) that carries such an error. */
function reclassifyWebTrailer(chunk: Uint8Array): Uint8Array {
  if (chunk.byteLength < 5 || chunk[0] !== GRPC_WEB_TRAILER_FLAG) return chunk;
  const text = new TextDecoder().decode(chunk.subarray(5));
  const message = /^grpc-message: (.*)\r$/m.exec(text)?.[1];
  if (!isFault(message, REQUEST_FAULTS_IN_TRAILER)) return chunk;
  return webTrailerFrame(
    text.replace(/^grpc-status: 13\r$/m, `grpc-status: ${GRPC_INVALID_ARGUMENT}\r`),
  );
}

function webTrailerFrame(text: string): Uint8Array {
  const data = new TextEncoder().encode(text);
  const frame = new Uint8Array(5 + data.byteLength);
  new DataView(frame.buffer).setUint32(1, data.byteLength);
  frame[0] = GRPC_WEB_TRAILER_FLAG;
  frame.set(data, 5);
  return frame;
}
