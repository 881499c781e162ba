/**
 * The one RPC error path for requests the server cannot read: the client's
 * fault, InvalidArgument, on every protocol, for the unary methods (answered
 * by connect-es before any interceptor; src/server/rpc-request-faults.ts) and
 * for the WaitToken stream (read inside the interceptors;
 * src/rpc/error-interceptor.ts), and a body that does not decompress
 * (src/rpc/request-compression.ts).
 */
import http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answered } from "../fuzz/support/oauth-answer.js";
import { send } from "../fuzz/support/raw-http.js";
import { envelope, grpcStatus, h2Call, SERVICE } from "../fuzz/support/rpc-wire.js";
import { startTestServer, type TestServer } from "../support/handoff-server.js";

let server: TestServer;
let session: http2.ClientHttp2Session;
beforeAll(async () => {
  server = await startTestServer();
  session = http2.connect(server.issuer);
  session.on("error", () => {});
});
afterAll(async () => {
  session.close();
  expect(server.logs()).not.toMatch(/"level":50/);
  await server.close();
});

/** Field 1 (client_id), length 5, no bytes: protobuf cut short. */
const CUT = Uint8Array.from([0x0a, 0x05]);
const GRPC_INVALID_ARGUMENT = 3;

/** The code of a Connect streaming answer: its end-stream frame (flag 0x02) holds the error as JSON. */
function connectStreamCode(body: Buffer): string | undefined {
  for (let at = 0; at + 5 <= body.length; ) {
    const flags = body.readUInt8(at);
    const len = body.readUInt32BE(at + 1);
    if (flags & 0x02) {
      const end = JSON.parse(body.subarray(at + 5, at + 5 + len).toString("utf8")) as {
        error?: { code?: string };
      };
      return end.error?.code;
    }
    at += 5 + len;
  }
  return undefined;
}

describe.each(["Authorize", "PollToken", "WaitToken"])(
  "%s with a message that does not parse",
  (method) => {
    it("is InvalidArgument over gRPC-Web and gRPC", async () => {
      const web = answered(
        await send(server.port, {
          method: "POST",
          path: `${SERVICE}/${method}`,
          headers: [["Content-Type", "application/grpc-web+proto"]],
          body: envelope(0, CUT),
        }),
      );
      expect(grpcStatus(Object.fromEntries(web.headers), {}, web.body).status).toBe(
        GRPC_INVALID_ARGUMENT,
      );
      const grpc = await h2Call(
        session,
        {
          ":method": "POST",
          ":path": `${SERVICE}/${method}`,
          "content-type": "application/grpc",
          te: "trailers",
        },
        envelope(0, CUT),
      );
      expect(grpcStatus(grpc.headers, grpc.trailers).status).toBe(GRPC_INVALID_ARGUMENT);
    });

    it("is InvalidArgument with a frame flagged compressed but no encoding", async () => {
      const web = answered(
        await send(server.port, {
          method: "POST",
          path: `${SERVICE}/${method}`,
          headers: [["Content-Type", "application/grpc-web+proto"]],
          body: envelope(0x01, CUT),
        }),
      );
      expect(grpcStatus(Object.fromEntries(web.headers), {}, web.body).status).toBe(
        GRPC_INVALID_ARGUMENT,
      );
    });

    it("is answered (a client error) when its JSON parse error quotes half an emoji", async () => {
      const web = answered(
        await send(server.port, {
          method: "POST",
          path: `${SERVICE}/${method}`,
          headers: [["Content-Type", "application/grpc-web+json"]],
          body: envelope(0, new TextEncoder().encode("\u{1F600}")),
        }),
      );
      expect(grpcStatus(Object.fromEntries(web.headers), {}, web.body).status).toBe(
        GRPC_INVALID_ARGUMENT,
      );
    });
  },
);

describe("Connect", () => {
  it("unary: protobuf cut short is 400 invalid_argument with connect-es's message", async () => {
    const r = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/Authorize`,
        headers: [["Content-Type", "application/proto"]],
        body: CUT,
      }),
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString("utf8"))).toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/^parse binary: /),
    });
  });

  it("unary: a gzip body cut short is 400 invalid_argument (RFC 9110 §8.4.1: the client's encoding)", async () => {
    const r = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/Authorize`,
        headers: [
          ["Content-Type", "application/json"],
          ["Content-Encoding", "gzip"],
        ],
        body: Uint8Array.from([0x1f, 0x8b, 0x08]),
      }),
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body.toString("utf8"))).toMatchObject({ code: "invalid_argument" });
  });

  it("server stream: WaitToken with protobuf cut short ends invalid_argument", async () => {
    const r = answered(
      await send(server.port, {
        method: "POST",
        path: `${SERVICE}/WaitToken`,
        headers: [["Content-Type", "application/connect+proto"]],
        body: envelope(0, CUT),
      }),
    );
    expect(connectStreamCode(r.body)).toBe("invalid_argument");
  });
});
