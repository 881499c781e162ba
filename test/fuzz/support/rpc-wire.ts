/**
 * RPC requests below the client libraries: gRPC envelopes, protobuf bytes cut
 * short, and reading the status a Connect, gRPC or gRPC-Web client would see.
 */
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import {
  ApproveRequestSchema,
  AuthorizeRequestSchema,
  GetDeviceAuthorizationRequestSchema,
  PollTokenRequestSchema,
} from "../../../gen/handoff/v1/device_auth_pb.js";
import { fuzzString } from "./hostile-values.js";

export const SERVICE = "/handoff.v1.DeviceAuthService";
export const METHODS = ["Authorize", "PollToken", "Approve", "GetDeviceAuthorization"] as const;

/** Protobuf encodings of plausible requests, to cut short or corrupt. */
export const protobufMessage = fc.oneof(
  fc
    .record({ clientId: fuzzString, scopes: fc.array(fuzzString, { maxLength: 3 }) })
    .map((m) => toBinary(AuthorizeRequestSchema, create(AuthorizeRequestSchema, m))),
  fc
    .record({ clientId: fuzzString, deviceCode: fuzzString })
    .map((m) => toBinary(PollTokenRequestSchema, create(PollTokenRequestSchema, m))),
  fc
    .record({ userCode: fuzzString, subject: fuzzString, decision: fc.integer() })
    .map((m) => toBinary(ApproveRequestSchema, create(ApproveRequestSchema, m))),
  fc
    .record({ userCode: fuzzString })
    .map((m) =>
      toBinary(GetDeviceAuthorizationRequestSchema, create(GetDeviceAuthorizationRequestSchema, m)),
    ),
);

/**
 * Bytes that are not a valid message: a real one cut short or with a byte
 * flipped, random bytes, a field with invalid UTF-8, an absurd length prefix,
 * a group wire type, a deep nesting of unknown fields.
 */
export const brokenProtobuf = fc.oneof(
  fc
    .tuple(protobufMessage, fc.nat())
    .map(([m, n]) => m.subarray(0, m.length === 0 ? 0 : n % m.length)),
  fc.tuple(protobufMessage, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([m, i, x]) => {
    const b = Uint8Array.from(m);
    if (b.length > 0) b[i % b.length] = (b[i % b.length] ?? 0) ^ x;
    return b;
  }),
  fc.uint8Array({ minLength: 1, maxLength: 200 }),
  fc.constantFrom(
    Uint8Array.from([0x0a, 0x02, 0xc3, 0x28]), // field 1, string, invalid UTF-8
    Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length 4 GiB
    Uint8Array.from([0x0b, 0x0c]), // start and end group
    Uint8Array.from([0x0f]), // wire type 7
    Uint8Array.from([0x0a]), // a tag and nothing else
    Uint8Array.from([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // varint past 64 bits
    Uint8Array.from(Array.from({ length: 400 }, (_, i) => (i < 200 ? 0xa3 : 0xa4))), // groups 500 deep
  ),
);

/**
 * JSON for the +json content types: request-shaped objects with hostile
 * values and keys (an emoji cut in half by an error message is a lone
 * surrogate), wrong types, enum names that do not exist.
 */
export const jsonMessage = fc
  .oneof(
    fc.record(
      {
        clientId: fc.oneof(fuzzString, fc.integer()),
        scopes: fc.oneof(fc.array(fuzzString, { maxLength: 3 }), fuzzString),
        decision: fc.oneof(fuzzString, fc.integer(), fc.double()),
        userCode: fuzzString,
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fuzzString, fuzzString, { maxKeys: 3 }),
  )
  .chain((o) =>
    fc.nat().map((cut) => {
      const text = JSON.stringify(o);
      return cut % 3 === 0 ? text.slice(0, cut % (text.length + 1)) : text;
    }),
  )
  .map((text) => new TextEncoder().encode(text));

/** A gRPC length-prefixed message: flags, a (possibly lying) length, the payload. */
export function envelope(flags: number, payload: Uint8Array, length = payload.length): Uint8Array {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags & 0xff, 0);
  head.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([head, payload]);
}

/** gRPC framing, right or wrong: flag bits, lying lengths, several messages, a cut frame. */
export const grpcBody = fc.oneof(
  fc.tuple(fc.constantFrom(0, 0, 1, 2, 0x80, 0xff), brokenProtobuf).map(([f, p]) => envelope(f, p)),
  jsonMessage.map((m) => envelope(0, m)),
  fc
    .tuple(brokenProtobuf, fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 70_000), fc.nat(10))
    .map(([p, len, extra]) => envelope(0, p, len === 0 ? p.length + extra + 1 : len)),
  fc
    .tuple(protobufMessage, protobufMessage)
    .map(([a, b]) => Buffer.concat([envelope(0, a), envelope(0, b)])),
  fc.tuple(protobufMessage, fc.nat(4)).map(([m, n]) => envelope(0, m).subarray(0, n)),
  fc.uint8Array({ maxLength: 100 }),
);

/** The gRPC status in headers or trailers, or in gRPC-Web's trailer frame. */
export function grpcStatus(
  headers: Record<string, string | string[] | undefined>,
  trailers: Record<string, string | string[] | undefined>,
  body?: Buffer,
): { status: number | undefined; message: string } {
  const pick = (h: Record<string, string | string[] | undefined>, k: string) => {
    const v = h[k];
    return Array.isArray(v) ? v[0] : v;
  };
  let status = pick(trailers, "grpc-status") ?? pick(headers, "grpc-status");
  let message = pick(trailers, "grpc-message") ?? pick(headers, "grpc-message") ?? "";
  if (status === undefined && body) {
    // gRPC-Web: the trailers are the last frame, flag 0x80, as header lines.
    for (let at = 0; at + 5 <= body.length; ) {
      const flags = body.readUInt8(at);
      const len = body.readUInt32BE(at + 1);
      const frame = body.subarray(at + 5, at + 5 + len).toString("latin1");
      if (flags & 0x80) {
        status = /grpc-status:\s*(\d+)/i.exec(frame)?.[1];
        message = /grpc-message:\s*(.*)/i.exec(frame)?.[1]?.trim() ?? "";
      }
      at += 5 + len;
    }
  }
  return { status: status === undefined ? undefined : Number(status), message };
}

/**
 * One gRPC (or Connect) call over an h2c session, with raw headers and body.
 * The answer is complete at the end of the response stream (a client with
 * unsent request data may never see its stream close, even after the
 * server's RST_STREAM). `stalled`: neither an answer nor a reset within
 * `guardMs` (a hang; the guard only keeps the test from waiting forever).
 */
export function h2Call(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array,
  guardMs = 5000,
): Promise<{
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Buffer;
  rstCode: number | undefined;
  stalled: boolean;
}> {
  return new Promise((resolve) => {
    const stream = session.request(headers);
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let settled = false;
    const settle = (stalled: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      const rst = stream.rstCode;
      resolve({
        headers: responseHeaders,
        trailers,
        body: Buffer.concat(chunks),
        rstCode: rst === undefined || rst === http2.constants.NGHTTP2_NO_ERROR ? undefined : rst,
        stalled,
      });
      // Cancel only a request still sending (refused for size): resetting a finished
      // stream counts as an invalid frame, and Node ends the session after 1 000.
      if (!stream.closed && !stream.writableFinished) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    const guard = setTimeout(() => settle(true), guardMs);
    stream.on("response", (h) => {
      responseHeaders = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (d: Buffer) => chunks.push(d));
    stream.on("end", () => settle(false));
    stream.on("error", () => {});
    stream.on("close", () => settle(false));
    stream.end(body);
  });
}
