/**
 * Canary for src/server/rpc-request-faults.ts and src/rpc/request-compression.ts:
 * the raw behaviour of the pinned connect-es (no workaround in the way) that
 * those files correct. Each test fails the day connect-es changes what it
 * asserts; then the matching part of the workaround can go (the file headers
 * say which). test/fuzz/rpc-framing.test.ts checks the server's corrected answers.
 */
import {
  Code,
  type ConnectRouter,
  createConnectRouter,
  createContextValues,
} from "@connectrpc/connect";
import {
  createAsyncIterable,
  readAllBytes,
  type UniversalHandler,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { describe, expect, it } from "vitest";
import { DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";

/** A router as connect-node builds it by default, with one interceptor that records whether it ran. */
function rawAuthorize(): { handler: UniversalHandler; intercepted: () => boolean } {
  let intercepted = false;
  const router: ConnectRouter = createConnectRouter({
    interceptors: [
      (next) => (req) => {
        intercepted = true;
        return next(req);
      },
    ],
  });
  router.service(DeviceAuthService, { authorize: async () => ({}) });
  const handler = router.handlers.find((h) => h.method.name === "Authorize");
  if (!handler) throw new Error("no Authorize handler");
  return { handler, intercepted: () => intercepted };
}

function call(handler: UniversalHandler, headers: Record<string, string>, body: Uint8Array) {
  return handler({
    httpVersion: "1.1",
    method: "POST",
    url: `http://127.0.0.1/handoff.v1.DeviceAuthService/Authorize`,
    header: new Headers(headers),
    body: createAsyncIterable([body]),
    signal: new AbortController().signal,
    contextValues: createContextValues(),
  });
}

const envelope = (flags: number, data: Uint8Array) => {
  const frame = new Uint8Array(5 + data.byteLength);
  frame[0] = flags;
  new DataView(frame.buffer).setUint32(1, data.byteLength);
  frame.set(data, 5);
  return frame;
};

async function bodyText(res: UniversalServerResponse): Promise<string> {
  const body = res.body as AsyncIterable<Uint8Array>;
  return new TextDecoder().decode(await readAllBytes(body, 1 << 20));
}

describe("connect-es 2.1.1, as rpc-request-faults.ts works around it", () => {
  it("answers protobuf that does not parse Internal (parse binary), before any interceptor runs", async () => {
    const { handler, intercepted } = rawAuthorize();
    // Field 1 (client_id), length 5, no bytes: cut short.
    const res = await call(
      handler,
      { "content-type": "application/proto", "connect-protocol-version": "1" },
      Uint8Array.from([0x0a, 0x05]),
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(await bodyText(res))).toMatchObject({
      code: "internal",
      message: expect.stringMatching(/^parse binary: /),
    });
    expect(intercepted()).toBe(false);
  });

  it("answers an envelope flagged compressed without an encoding Internal, before any interceptor runs", async () => {
    const { handler, intercepted } = rawAuthorize();
    const res = await call(
      handler,
      { "content-type": "application/grpc-web+proto" },
      envelope(0x01, new Uint8Array()),
    );
    expect(await bodyText(res)).toContain(`grpc-status: ${Code.Internal}\r\n`);
    expect(intercepted()).toBe(false);
  });

  it("cannot write a gRPC-Web error whose message holds half a surrogate pair: the handler rejects with URIError", async () => {
    const { handler } = rawAuthorize();
    // V8's JSON.parse message quotes the first code unit of the emoji: a lone surrogate.
    const answer = call(
      handler,
      { "content-type": "application/grpc-web+json" },
      envelope(0, new TextEncoder().encode("\u{1F600}")),
    );
    await expect(answer).rejects.toBeInstanceOf(URIError);
  });
});

describe("connect-node 2.1.1, as request-compression.ts works around it", () => {
  it("answers a gzip body cut short Internal (decompression failed)", async () => {
    const { compressionGzip } = await import("@connectrpc/connect-node");
    const router = createConnectRouter({ acceptCompression: [compressionGzip] });
    router.service(DeviceAuthService, { authorize: async () => ({}) });
    const handler = router.handlers.find((h) => h.method.name === "Authorize");
    if (!handler) throw new Error("no Authorize handler");
    const res = await call(
      handler,
      {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "connect-protocol-version": "1",
      },
      Uint8Array.from([0x1f, 0x8b, 0x08]),
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(await bodyText(res))).toMatchObject({
      code: "internal",
      message: "decompression failed",
    });
  });
});
