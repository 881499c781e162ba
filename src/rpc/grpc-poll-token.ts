/**
 * The gRPC PollToken fast path: the hot RPC (RFC 8628 §3.4's poll over gRPC,
 * h2c or h2 over TLS) answered from the HTTP/2 server's `stream` event, in
 * front of Node's compatibility API and connect-node's adapter. Measured with
 * bench/instructions.ts, the compatibility request and response, connect-es's
 * universal request and its iterable pipeline (envelopes, interceptors,
 * serialization) cost about twice the rest of the poll (docs/architecture.md
 * "The gRPC PollToken fast path").
 *
 * It takes only the plain case, decided from the headers alone: POST, the
 * exact path, `content-type` `application/grpc` or `application/grpc+proto`,
 * no request encoding but `identity`, no `grpc-timeout` (a deadline is
 * connect-es's to keep), an authority, no `expect`, a session not closing.
 * Anything else goes to connect-es untouched. Of what it takes it reads the
 * body; one uncompressed message within the read limit that parses is
 * answered here, with the functions the connect handler and interceptors use
 * (the domain poll, the one error mapping of src/rpc/connect-error.ts,
 * connect-es's own trailer encoding, the one access-log line of
 * src/rpc/access-log.ts). An answer without a message (every refusal:
 * pending, slow_down, denied, expired, a bad client) is gRPC's Trailers-Only
 * answer, one HEADERS frame, where connect-es sends the same fields as
 * headers and then trailers: every gRPC client reads both (the test runs
 * connect-es's and grpcio's clients through it), and it saves a frame and a
 * round of stream events per poll. Any other body (empty, two messages, flagged
 * compressed, over the limit, not protobuf) is handed, as read, to
 * connect-es's own handler for the method, which answers it as it answers
 * every fault. test/rpc/grpc-poll-token.test.ts compares both paths byte for
 * byte.
 */
import diagnostics from "node:diagnostics_channel";
import type http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, type ConnectError, createContextValues } from "@connectrpc/connect";
import {
  type Compression,
  compressionNegotiate,
  type UniversalHandler,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import {
  contentTypeProto,
  grpcStatusOk,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import {
  PollTokenRequestSchema,
  PollTokenResponseSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { type DeviceFlow, PACING_ANSWERS_KEPT } from "../domain/device-flow.js";
import type { PollRefusal } from "../domain/oauth-error.js";
import type { RpcRecorder } from "./access-log.js";
import { answerAsConnectError, toConnectError } from "./connect-error.js";
import { credentialsFrom, peerAddressKey, tokenResponse } from "./rpc-translation.js";

export const POLL_TOKEN_PATH = "/handoff.v1.DeviceAuthService/PollToken";
const PROCEDURE = "handoff.v1.DeviceAuthService/PollToken";
const GRPC = "application/grpc";
const ACCEPT_ENCODING = "grpc-accept-encoding";
const GRPC_PROTO = "application/grpc+proto";
/**
 * Told, for each stream this step took, which path answered it (`{ by:
 * "fast" | "connect", port }`, port: the server's local port); tests use it.
 */
export const grpcPollTokenChannel = diagnostics.channel("handoff:grpc-poll-token");
/** Of a gRPC message's 5-byte prefix (gRPC over HTTP/2, "Length-Prefixed-Message"). */
const PREFIX_BYTES = 5;
/** connect-es compresses a response message from this size on (its `compressMinBytes` default). */
const COMPRESS_MIN_BYTES = 1024;
/**
 * Distinct poll refusals kept encoded (RefusalAnswers): pending and
 * slow_down at each interval the flow keeps, and the few others.
 */
const MAX_REFUSAL_ANSWERS = 2 * PACING_ANSWERS_KEPT + 16;

export interface GrpcPollTokenOptions {
  readonly flow: Pick<DeviceFlow, "poll">;
  /** The RPC read limit (connect-es's `readMaxBytes`). */
  readonly readMaxBytes: number;
  /** The encodings connect-es accepts and answers in (its `acceptCompression`). */
  readonly compression: readonly Compression[];
  /** The client's address, by the rule every RPC's `peerAddressKey` follows. */
  readonly addressOf: (
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
  ) => string;
  /** connect-es's handler of PollToken (same routes, interceptors and options as the adapter's). */
  readonly connect: UniversalHandler;
  /** The access log and RPC metrics, as the access-log interceptor records them. */
  readonly record: RpcRecorder;
}

/** A `stream` event step: true when it took the stream, false to pass it on. */
export type StreamStep = (
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
) => boolean;

export function createGrpcPollToken(o: GrpcPollTokenOptions): StreamStep {
  const limit = PREFIX_BYTES + o.readMaxBytes;
  const available = [...o.compression];
  const refusals = new RefusalAnswers();
  return (stream, headers) => {
    if (headers[":path"] !== POLL_TOKEN_PATH || headers[":method"] !== "POST") return false;
    const type = headers["content-type"];
    if (type !== GRPC && type !== GRPC_PROTO) return false;
    const encoding = headers["grpc-encoding"];
    if (
      (encoding !== undefined && encoding !== "identity") ||
      headers["grpc-timeout"] !== undefined ||
      headers.expect !== undefined ||
      (headers[":authority"] ?? headers.host) === undefined ||
      stream.session?.closed !== false
    ) {
      return false;
    }
    // A reset stream emits 'error' (nobody to answer then); without a listener it would throw.
    stream.on("error", () => {});
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= limit) return;
      // Past one message's limit: connect-es refuses it as it reads, with the rest unread.
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.pause();
      void toConnect(o, stream, headers, followedByRest(chunks, stream));
    };
    const onEnd = () => {
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      const request = plainMessage(body, o.readMaxBytes);
      if (request === undefined) {
        void toConnect(o, stream, headers, once(body));
        return;
      }
      void answer(o, available, refusals, stream, headers, request);
    };
    stream.on("data", onData);
    stream.on("end", onEnd);
    return true;
  };
}

/** The request of a body that is exactly one uncompressed message within the limit that parses; else undefined. */
function plainMessage(body: Buffer, readMaxBytes: number) {
  if (body.length < PREFIX_BYTES || body[0] !== 0) return undefined;
  const length = body.readUInt32BE(1);
  if (length > readMaxBytes || body.length !== PREFIX_BYTES + length) return undefined;
  try {
    return fromBinary(PollTokenRequestSchema, body.subarray(PREFIX_BYTES));
  } catch {
    return undefined; // connect-es words the refusal (src/server/rpc-request-faults.ts)
  }
}

async function answer(
  o: GrpcPollTokenOptions,
  available: Compression[],
  refusals: RefusalAnswers,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  request: ReturnType<typeof fromBinary<typeof PollTokenRequestSchema>>,
): Promise<void> {
  const started = performance.now();
  const ip = o.addressOf(stream, headers);
  // The connect handler's body (src/rpc/device-auth-service.ts, pollToken), and the error interceptor's mapping.
  let message: Uint8Array | undefined;
  let error: ConnectError | undefined;
  let refusal: RefusalAnswer | undefined;
  try {
    const result = await o.flow.poll(
      credentialsFrom(request.clientId, request.clientSecret, ip),
      request.deviceCode,
    );
    if (result.ok) {
      message = toBinary(
        PollTokenResponseSchema,
        create(PollTokenResponseSchema, tokenResponse(result.tokens)),
      );
    } else {
      refusal = refusals.of(result.refusal);
      error = refusal.error;
    }
  } catch (e) {
    error = toConnectError(e);
  }
  if (error === undefined) o.record.ok(PROCEDURE, ip, started);
  else o.record.failed(PROCEDURE, ip, started, error);

  // What connect-es's gRPC handler answers (protocol-grpc/handler-factory.js):
  // the response encoding negotiated from grpc-accept-encoding, a message
  // compressed from COMPRESS_MIN_BYTES on, the status in the trailers.
  const compression = compressionNegotiate(
    available,
    null,
    headerValue(headers[ACCEPT_ENCODING]),
    ACCEPT_ENCODING,
  ).response;
  told(stream, "fast");
  if (message === undefined) {
    // No message: one HEADERS frame that ends the stream, gRPC's
    // "Trailers-Only" answer (gRPC over HTTP/2, "Responses"), where
    // connect-es sends the same fields as headers and then trailers.
    if (stream.destroyed || stream.closed) return;
    // A refusal without a negotiated encoding, nearly every poll: its headers as made once
    // (Node copies what `respond` is given, headers and options alike).
    if (refusal !== undefined && compression === null) {
      stream.respond(refusal.trailersOnly, END_STREAM);
      return;
    }
    stream.respond(
      { ...responseHead(compression), ...(refusal?.status ?? statusFields(error)) },
      END_STREAM,
    );
    return;
  }
  const head = responseHead(compression);
  let flags = 0;
  if (compression !== null && message.byteLength >= COMPRESS_MIN_BYTES) {
    message = await compression.compress(message);
    flags = 1;
  }
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + message.byteLength);
  frame[0] = flags;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, PREFIX_BYTES);
  if (stream.destroyed || stream.closed) return;
  stream.respond(head, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": grpcStatusOk }));
  stream.end(frame);
}

const END_STREAM = { endStream: true };

/** The response's first headers: status, content type, and the encoding if one was negotiated. */
function responseHead(compression: Compression | null): http2.OutgoingHttpHeaders {
  const head: http2.OutgoingHttpHeaders = { ":status": 200, "content-type": contentTypeProto };
  if (compression !== null) head["grpc-encoding"] = compression.name;
  return head;
}

/** The status fields of an answer, as connect-es's setTrailerStatus writes them. */
function statusFields(error: ConnectError | undefined): http2.OutgoingHttpHeaders {
  const fields: http2.OutgoingHttpHeaders = {};
  appendAll(fields, setTrailerStatus(new Headers(), error));
  return fields;
}

/**
 * What a poll refusal is answered with: the error (for the access log), its
 * status fields, and the whole Trailers-Only answer without a negotiated
 * encoding.
 */
interface RefusalAnswer {
  readonly error: ConnectError;
  readonly status: http2.OutgoingHttpHeaders;
  readonly trailersOnly: http2.OutgoingHttpHeaders;
}

/**
 * The answers to poll refusals, each made once: there are a handful
 * (pending and slow_down at each interval, denied, expired) and nearly
 * every poll is one, while encoding one (the typed detail inside a
 * google.rpc.Status, base64) cost more than the rest of the answer.
 * Bounded: cleared when full.
 */
class RefusalAnswers {
  private readonly answers = new Map<string, RefusalAnswer>();

  of(r: PollRefusal): RefusalAnswer {
    const key = `${r.code} ${r.interval ?? ""} ${r.retryAfter ?? ""} ${r.description}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      const error = answerAsConnectError(r);
      const status = statusFields(error);
      answer = { error, status, trailersOnly: { ...responseHead(null), ...status } };
      if (this.answers.size >= MAX_REFUSAL_ANSWERS) this.answers.clear();
      this.answers.set(key, answer);
    }
    return answer;
  }
}

function told(stream: http2.ServerHttp2Stream, by: "fast" | "connect"): void {
  if (grpcPollTokenChannel.hasSubscribers) {
    grpcPollTokenChannel.publish({ by, port: stream.session?.socket?.localPort });
  }
}

function headerValue(v: string | string[] | undefined): string | null {
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(", ") : v;
}

/** Hands a stream whose body this step read (all of it, or up to a limit) to connect-es. */
async function toConnect(
  o: GrpcPollTokenOptions,
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  body: AsyncIterable<Uint8Array>,
): Promise<void> {
  // As connect-node's universalRequestFromNodeRequest builds it.
  const abort = new AbortController();
  stream.once("close", () => abort.abort());
  const socket = stream.session?.socket;
  const encrypted = socket !== undefined && "encrypted" in socket && socket.encrypted;
  const authority = (headers[":authority"] ?? headers.host) as string;
  const header = new Headers();
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(":") || v === undefined) continue;
    if (Array.isArray(v)) for (const e of v) header.append(k, e);
    else header.append(k, String(v));
  }
  const ip = o.addressOf(stream, headers);
  try {
    const res = await o.connect({
      httpVersion: "2.0",
      method: "POST",
      url: new URL(POLL_TOKEN_PATH, `${encrypted ? "https" : "http"}://${authority}`).toString(),
      header,
      body,
      signal: abort.signal,
      contextValues: createContextValues().set(peerAddressKey, ip),
    });
    told(stream, "connect");
    await writeResponse(stream, res);
  } catch (reason) {
    // As connect-node's adapter: an abort is the client's going away; anything else is logged.
    if ((reason as ConnectError | undefined)?.code === Code.Aborted) return;
    console.error("handler for rpc PollToken of handoff.v1.DeviceAuthService failed", reason);
  }
}

async function* once(body: Buffer): AsyncIterable<Uint8Array> {
  if (body.length > 0) yield body;
}

async function* followedByRest(
  read: readonly Buffer[],
  stream: http2.ServerHttp2Stream,
): AsyncIterable<Uint8Array> {
  yield* read;
  for await (const chunk of stream) yield chunk as Buffer;
}

/**
 * Writes a universal response as connect-node's universalResponseToNodeResponse
 * does through Node's compatibility response: the headers once the first
 * chunk is ready, the chunks, then the trailers after the body.
 */
async function writeResponse(
  stream: http2.ServerHttp2Stream,
  res:
    | UniversalServerResponse
    | { status: number; header: Headers; body: Uint8Array[]; trailer: Headers },
): Promise<void> {
  const chunks: Uint8Array[] = [];
  if (Array.isArray(res.body)) chunks.push(...res.body);
  else if (res.body !== undefined) for await (const c of res.body) chunks.push(c);
  if (stream.destroyed || stream.closed) return;
  const head: http2.OutgoingHttpHeaders = { ":status": res.status };
  appendAll(head, res.header);
  const trailer = res.trailer;
  stream.respond(head, { waitForTrailers: true });
  stream.once("wantTrailers", () => {
    const t: http2.OutgoingHttpHeaders = {};
    appendAll(t, trailer);
    stream.sendTrailers(t);
  });
  for (const c of chunks) stream.write(c);
  stream.end();
}

/** connect-node's webHeaderToNodeHeaders: lower-case names, repeated ones as arrays. */
function appendAll(o: http2.OutgoingHttpHeaders, h: Headers | undefined): void {
  h?.forEach((value, key) => {
    const existing = o[key];
    if (existing === undefined) o[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else o[key] = [String(existing), value];
  });
}
