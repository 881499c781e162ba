/**
 * A throwaway certificate for https servers that tests run on loopback,
 * generated with Debian's openssl at test time (no key is ever committed):
 * self-signed, so it is its own CA; valid for localhost, docs.test and 127.0.0.1.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificate {
  readonly cert: string;
  readonly key: string;
}

export function generateTestCertificate(): TestCertificate {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    throw new Error("openssl is not installed; install it with: apt-get install -y openssl");
  }
  const dir = mkdtempSync(join(tmpdir(), "handoff-ca-"));
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-days", "1", "-subj", "/CN=handoff test CA",
        "-addext", "subjectAltName=DNS:localhost,DNS:docs.test,IP:127.0.0.1",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      ], // biome-ignore format: flag/value pairs
      { stdio: "ignore" },
    );
    return {
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
      key: readFileSync(join(dir, "key.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
