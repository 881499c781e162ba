/**
 * Polyglot, proven: a Python gRPC client generated from proto/ at test time
 * (Debian's protoc and grpc_python_plugin, /usr/bin/python3 with
 * python3-grpcio) runs Authorize → Approve → PollToken and
 * Authorize → WaitToken → Approve → token against a live server, and reads
 * the typed OAuthError detail from the grpc-status-details-bin trailer.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const here = import.meta.dirname;
const root = join(here, "..", "..");

let server: TestServer;
let out: string;

beforeAll(async () => {
  server = await startTestServer();
  out = mkdtempSync(join(tmpdir(), "handoff-python-"));
  // protoc writes packages as directories; Python 3 finds them as namespace packages.
  await run("protoc", [
    `--proto_path=${join(root, "proto")}`,
    `--proto_path=${join(here, "proto")}`,
    "--proto_path=/usr/include",
    `--python_out=${out}`,
    `--grpc_python_out=${out}`,
    "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
    "handoff/v1/device_auth.proto",
    "google/rpc/status.proto",
  ]);
});
afterAll(async () => {
  await server?.close();
  if (out) rmSync(out, { recursive: true, force: true });
});

type Step = Record<string, unknown> & { step: string };

describe("a generated Python gRPC client", () => {
  it("runs the flow by polling and by WaitToken, and branches on typed OAuthError details", async () => {
    const { stdout } = await run(
      PYTHON,
      [join(here, "python", "device_flow.py"), out, `127.0.0.1:${server.port}`, SERVICE_TOKEN],
      { timeout: 60_000 },
    );
    const steps = stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Step);
    const at = (name: string) => steps.find((s) => s.step === name);
    expect(steps.map((s) => s.step)).toEqual([
      "authorized",
      "pending",
      "token",
      "spent",
      "stream-token",
      "stream-end",
      "stream-error",
      "unknown-client",
    ]);
    expect(at("authorized")?.user_code).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    // RFC 8628 §3.5 answers as typed details, decoded in Python.
    expect(at("pending")).toMatchObject({
      grpc_code: "FAILED_PRECONDITION",
      error_code: "ERROR_CODE_AUTHORIZATION_PENDING",
      error: "authorization_pending",
      interval: 1,
    });
    expect(at("token")).toMatchObject({ token_type: "Bearer", scope: "read" });
    expect(String(at("token")?.access_token).split(".")).toHaveLength(3);
    expect(at("spent")).toMatchObject({
      grpc_code: "INVALID_ARGUMENT",
      error_code: "ERROR_CODE_INVALID_GRANT",
    });
    // WaitToken: a heartbeat, the approval, then the token as the last message.
    expect(at("stream-token")).toMatchObject({
      events: ["heartbeat", "token"],
      token_type: "Bearer",
    });
    expect(at("stream-end")).toMatchObject({ events: ["heartbeat", "token"] });
    expect(at("stream-error")).toMatchObject({
      events: ["heartbeat"],
      grpc_code: "PERMISSION_DENIED",
      error_code: "ERROR_CODE_ACCESS_DENIED",
      error: "access_denied",
    });
    expect(at("unknown-client")).toMatchObject({
      grpc_code: "UNAUTHENTICATED",
      error_code: "ERROR_CODE_INVALID_CLIENT",
    });
  });
});
