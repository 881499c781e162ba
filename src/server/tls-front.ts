/**
 * TLS in-process, for small deployments without a load balancer (README
 * "TLS"): the one port then speaks TLS, and ALPN (RFC 7301) picks the
 * protocol inside it: `h2` goes to the HTTP/2 server (gRPC, Connect), anything
 * else (`http/1.1`, or no ALPN at all) to the HTTP/1.1 server (RFC endpoints,
 * pages, Connect, gRPC-Web). The same two servers as in cleartext mode get the
 * decrypted socket, so every route behaves the same.
 *
 * The certificate and key are re-read on `reload()` (SIGHUP): a pair that does
 * not load is reported and the one in service stays, so a bad renewal never
 * takes the port down.
 */
import { readFile } from "node:fs/promises";
import type net from "node:net";
import tls from "node:tls";
import type { SniffTargets } from "./protocol-sniffer.js";

export interface TlsFiles {
  /** PEM certificate chain, leaf first. */
  readonly certFile: string;
  /** PEM private key of the leaf. */
  readonly keyFile: string;
}

interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/** Reads and checks a certificate/key pair; the message names the setting at fault. */
export async function readTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const read = async (path: string, setting: string) => {
    try {
      return await readFile(path, "utf8");
    } catch (e) {
      throw new Error(`${setting}: cannot read ${path} (${(e as NodeJS.ErrnoException).code})`);
    }
  };
  const material = {
    cert: await read(files.certFile, "HANDOFF_TLS_CERT_FILE"),
    key: await read(files.keyFile, "HANDOFF_TLS_KEY_FILE"),
  };
  try {
    // Builds a context now, so a key that does not match the certificate fails here.
    tls.createSecureContext(material);
  } catch (e) {
    throw new Error(
      `HANDOFF_TLS_CERT_FILE / HANDOFF_TLS_KEY_FILE: not a usable certificate and key (${(e as Error).message})`,
    );
  }
  return material;
}

export class TlsFront {
  private readonly server: tls.Server;

  constructor(
    private readonly files: TlsFiles,
    material: TlsMaterial,
    targets: SniffTargets,
    handshakeTimeoutMs: number,
  ) {
    this.server = tls.createServer({
      ...material,
      ALPNProtocols: ["h2", "http/1.1"],
      minVersion: "TLSv1.2",
      handshakeTimeout: handshakeTimeoutMs,
    });
    this.server.on("secureConnection", (socket) => {
      const target = socket.alpnProtocol === "h2" ? targets.h2 : targets.h1;
      if (!target) {
        socket.destroy(); // still starting up
        return;
      }
      target.emit("connection", socket);
    });
    // A failed handshake (a plain-HTTP client, a port scanner) ends that connection only.
    this.server.on("tlsClientError", (_err, socket) => socket.destroy());
  }

  /** Starts TLS on an accepted TCP connection. */
  accept(socket: net.Socket): void {
    this.server.emit("connection", socket);
  }

  /** Re-reads the files; new connections use them. Throws, keeping the pair in service, if they do not load. */
  async reload(): Promise<void> {
    this.server.setSecureContext(await readTlsMaterial(this.files));
  }
}
