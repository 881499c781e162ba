/**
 * TLS in-process (README "TLS"): with HANDOFF_TLS_CERT_FILE / _KEY_FILE the
 * one port speaks TLS, and ALPN picks HTTP/1.1 or HTTP/2 inside it. Real TLS
 * clients (node's https and http2, connect-node's gRPC, Connect and gRPC-Web
 * transports) run the same device flow as in cleartext; SIGHUP swaps the
 * certificate for new connections; a bad pair is refused at startup, naming
 * the setting, and ignored at reload.
 */
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuthorizeRequestSchema,
  Decision,
  DeviceAuthService,
  PollTokenRequestSchema,
} from "../../gen/handoff/v1/device_auth_pb.js";
import { readSettings } from "../../src/config/settings.js";
import { loadConfig } from "../../src/server/load-config.js";
import { freePort } from "../support/free-port.js";
import {
  DEVICE_GRANT,
  SERVICE_TOKEN,
  startTestServer,
  type TestServer,
} from "../support/handoff-server.js";
import { bearer } from "../support/rpc-clients.js";
import { generateTestCertificate, type TestCertificate } from "../support/test-ca.js";

const dir = mkdtempSync(join(tmpdir(), "handoff-tls-"));
const certFile = join(dir, "cert.pem");
const keyFile = join(dir, "key.pem");
const install = (c: TestCertificate) => {
  writeFileSync(certFile, c.cert);
  writeFileSync(keyFile, c.key);
};

let first: TestCertificate;
let server: TestServer;
let base: string;

/** One HTTP/1.1 request over TLS; resolves with status, body and the negotiated protocol. */
function h1(
  method: string,
  path: string,
  ca: string,
  form?: Record<string, string>,
  alpn?: string[],
): Promise<{ status: number; body: string; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const req = https.request(
      `${base}${path}`,
      {
        method,
        ca,
        agent: false,
        ...(alpn ? { ALPNProtocols: alpn } : {}),
        headers: body ? { "content-type": "application/x-www-form-urlencoded" } : {},
      },
      (res) => {
        let text = "";
        res.on("data", (d) => {
          text += String(d);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            alpn: (res.socket as tls.TLSSocket).alpnProtocol,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The SHA-256 fingerprint of the certificate a fresh TLS connection is shown. */
function presented(ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: "localhost", port: server.port, ca, servername: "localhost" },
      () => {
        const raw = s.getPeerCertificate().raw;
        s.end();
        resolve(createHash("sha256").update(raw).digest("hex"));
      },
    );
    s.on("error", reject);
  });
}
const fingerprint = (c: TestCertificate) =>
  createHash("sha256").update(new X509Certificate(c.cert).raw).digest("hex");

beforeAll(async () => {
  first = generateTestCertificate();
  install(first);
  const port = await freePort();
  server = await startTestServer({
    port,
    issuer: `https://localhost:${port}`,
    tls: { certFile, keyFile },
  });
  base = server.issuer;
});
afterAll(async () => server?.close());

describe("TLS on the one port", () => {
  it("the issuer is https; HTTP/1.1 by ALPN, or without ALPN, serves the RFC endpoints", async () => {
    expect(base).toMatch(/^https:\/\/localhost:\d+$/);
    const path = "/.well-known/oauth-authorization-server";
    const chosen = await h1("GET", path, first.cert, undefined, ["http/1.1"]);
    expect(chosen.alpn).toBe("http/1.1");
    expect(chosen.status).toBe(200);
    expect(JSON.parse(chosen.body).token_endpoint).toBe(`${base}/oauth/token`);
    const none = await h1("GET", path, first.cert);
    expect(none.alpn).toBe(false);
    expect(none.status).toBe(200);
  });

  it("HTTP/2 by ALPN (what a browser picks) serves the same routes: metadata, the verification page", async () => {
    const session = http2.connect(base, { ca: first.cert, ALPNProtocols: ["h2", "http/1.1"] });
    const get = (path: string) =>
      new Promise<{ status: number; alpn: string | undefined; location: string; body: string }>(
        (resolve, reject) => {
          const req = session.request({ ":path": path });
          let status = 0;
          let location = "";
          let body = "";
          req.on("response", (h) => {
            status = Number(h[":status"]);
            location = String(h.location ?? "");
          });
          req.on("data", (d) => {
            body += String(d);
          });
          req.on("end", () => resolve({ status, alpn: session.alpnProtocol, location, body }));
          req.on("error", reject);
          req.end();
        },
      );
    try {
      const meta = await get("/.well-known/oauth-authorization-server");
      expect(meta.alpn).toBe("h2");
      expect(meta.status).toBe(200);
      // The page sends a person who is not signed in to the sign-in page, which renders.
      const device = await get("/device");
      expect(device.status).toBe(303);
      const signIn = await get(
        new URL(device.location, base).pathname + new URL(device.location, base).search,
      );
      expect(signIn.status).toBe(200);
      expect(signIn.body).toContain("<form");
      expect((await get("/healthz")).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it("a whole device flow over TLS: authorize over gRPC, approve over Connect (h1), poll over the RFC endpoint, then gRPC-Web sees it spent", async () => {
    const nodeOptions = { ca: first.cert };
    const grpc = createClient(
      DeviceAuthService,
      createGrpcTransport({ baseUrl: base, nodeOptions }),
    );
    const connect = createClient(
      DeviceAuthService,
      createConnectTransport({
        baseUrl: base,
        httpVersion: "1.1",
        nodeOptions,
        interceptors: [bearer(SERVICE_TOKEN)],
      }),
    );
    const grpcWeb = createClient(
      DeviceAuthService,
      createGrpcWebTransport({ baseUrl: base, httpVersion: "1.1", nodeOptions }),
    );
    const started = await grpc.authorize(
      create(AuthorizeRequestSchema, { clientId: "public-cli" }),
    );
    expect(started.verificationUri).toMatch(/^https:\/\/localhost:\d+\/device$/);
    await connect.approve({
      userCode: started.userCode,
      subject: "alice",
      decision: Decision.APPROVE,
    });
    const token = await h1("POST", "/oauth/token", first.cert, {
      grant_type: DEVICE_GRANT,
      client_id: "public-cli",
      device_code: started.deviceCode,
    });
    expect(token.status, token.body).toBe(200);
    expect(JSON.parse(token.body).token_type).toBe("Bearer");
    const again = await grpcWeb
      .pollToken(
        create(PollTokenRequestSchema, { clientId: "public-cli", deviceCode: started.deviceCode }),
      )
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConnectError);
    expect((again as ConnectError).code).toBe(Code.InvalidArgument);
  });

  it("a cleartext client is cut off at the handshake; the port keeps serving", async () => {
    const plain = await fetch(`${base.replace("https:", "http:")}/healthz`).catch(
      (e: unknown) => e,
    );
    expect(plain).toBeInstanceOf(Error);
    expect((await h1("GET", "/healthz", first.cert)).status).toBe(200);
  });

  it("SIGHUP re-reads the pair for new connections; a broken pair is logged and the one in service stays", async () => {
    expect(await presented(first.cert)).toBe(fingerprint(first));
    const second = generateTestCertificate();
    install(second);
    process.kill(process.pid, "SIGHUP");
    await expect
      .poll(() => server.logs(), { timeout: 5000 })
      .toContain("tls: certificate and key reloaded");
    expect(await presented(second.cert)).toBe(fingerprint(second));
    expect((await h1("GET", "/healthz", second.cert)).status).toBe(200);

    writeFileSync(keyFile, first.key); // no longer matches the certificate
    expect(await server.reloadTls()).toBe(false);
    expect(server.logs()).toContain("tls: reload failed");
    expect(await presented(second.cert)).toBe(fingerprint(second));
  });
});

describe("TLS settings", () => {
  const logger = pino({ level: "silent" });
  const dev = (env: Record<string, string>) => loadConfig(readSettings(env), "development", logger);

  it("both files or neither; an unreadable or mismatched pair fails at startup, naming the setting", async () => {
    await expect(dev({ HANDOFF_TLS_CERT_FILE: certFile })).rejects.toThrow(
      /HANDOFF_TLS_KEY_FILE: required/,
    );
    await expect(dev({ HANDOFF_TLS_KEY_FILE: keyFile })).rejects.toThrow(
      /HANDOFF_TLS_CERT_FILE: required/,
    );
    await expect(
      dev({ HANDOFF_TLS_CERT_FILE: join(dir, "missing.pem"), HANDOFF_TLS_KEY_FILE: keyFile }),
    ).rejects.toThrow(/HANDOFF_TLS_CERT_FILE: cannot read/);
    const a = generateTestCertificate();
    const b = generateTestCertificate();
    const mismatched = join(dir, "other-key.pem");
    writeFileSync(join(dir, "a.pem"), a.cert);
    writeFileSync(mismatched, b.key);
    await expect(
      dev({ HANDOFF_TLS_CERT_FILE: join(dir, "a.pem"), HANDOFF_TLS_KEY_FILE: mismatched }),
    ).rejects.toThrow(/not a usable certificate and key/);
    const c = await dev({
      HANDOFF_TLS_CERT_FILE: join(dir, "a.pem"),
      HANDOFF_TLS_KEY_FILE: join(dir, "a-key.pem"),
    }).catch((e: Error) => e);
    expect(c).toBeInstanceOf(Error);
    writeFileSync(join(dir, "a-key.pem"), a.key);
    const ok = await dev({
      PORT: "8443",
      HANDOFF_TLS_CERT_FILE: join(dir, "a.pem"),
      HANDOFF_TLS_KEY_FILE: join(dir, "a-key.pem"),
    });
    expect(ok.tls).toEqual({ certFile: join(dir, "a.pem"), keyFile: join(dir, "a-key.pem") });
    // With TLS the default issuer is https.
    expect(ok.issuer).toBe("https://localhost:8443");
  });
});
