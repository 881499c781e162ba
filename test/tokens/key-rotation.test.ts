/**
 * Signing-key rotation (RFC 9068 §4; RFC 7517): the first non-retired key
 * signs, every active key is published, a retired key stays published until
 * the tokens it signed have expired, and the key file reloads without a
 * restart (SIGHUP, file change, or reloadSigningKeys).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, exportJWK } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  generateSigningKey,
  KeyRing,
  loadSigningKeys,
  parseSigningKeys,
  type SigningAlgorithm,
  type SigningKey,
} from "../../src/tokens/signing-keys.js";
import { SERVICE_TOKEN, startTestServer, type TestServer } from "../support/handoff-server.js";
import { deviceTokens, discover, LIFECYCLE_CLIENTS, validateAt } from "./token-fixtures.js";

/** A private JWK as an operator's key file holds it. */
async function privateJwk(alg: SigningAlgorithm, extra: Record<string, unknown> = {}) {
  const key = await generateSigningKey(alg);
  return { ...(await exportJWK(key.privateKey)), kid: key.kid, alg, use: "sig", ...extra };
}

const TTL = 300; // the test server's access-token TTL, seconds

describe("KeyRing: which key signs and which keys are published", () => {
  let a: SigningKey;
  let b: SigningKey;
  beforeAll(async () => {
    [a, b] = await Promise.all([generateSigningKey("ES256"), generateSigningKey("RS256")]);
  });

  it("RFC 9068: the first key that is not retired signs; a key listed after it is published before it signs", () => {
    const ring = new KeyRing([{ ...a, retiredAt: 1000 }, b]);
    expect(ring.current.kid).toBe(b.kid);
    const ring2 = new KeyRing([a, b]);
    expect(ring2.current.kid).toBe(a.kid);
    expect(ring2.publishedJwks(0, 1).keys.map((k) => k.kid)).toEqual([a.kid, b.kid]);
  });

  it("RFC 9068 §4: a retired key is published until its last token has expired, then dropped", () => {
    const retiredAt = 1_800_000_000_000;
    const ring = new KeyRing([b, { ...a, retiredAt }]);
    const life = TTL * 1000;
    expect(ring.published(retiredAt + life - 1, life).map((k) => k.kid)).toEqual([b.kid, a.kid]);
    expect(ring.published(retiredAt + life, life).map((k) => k.kid)).toEqual([b.kid]);
  });

  it("refuses a set in which every key is retired, keeping the keys in service", () => {
    const ring = new KeyRing([a]);
    expect(() => ring.replace([{ ...a, retiredAt: 1 }])).toThrow(/every key is retired/);
    expect(ring.current.kid).toBe(a.kid);
    expect(() => new KeyRing([a, { ...b, kid: a.kid }])).toThrow(/duplicate kid/);
  });
});

describe("the key file: handoff_retired_at", () => {
  it("reads RFC 3339 and Unix seconds; publishes neither it nor any private member", async () => {
    const iso = await privateJwk("ES256", { handoff_retired_at: "2026-11-27T08:00:00Z" });
    const secs = await privateJwk("RS256", { handoff_retired_at: 1_800_000_000 });
    const active = await privateJwk("ES256");
    const keys = await parseSigningKeys(JSON.stringify({ keys: [iso, secs, active] }));
    expect(keys.map((k) => k.retiredAt)).toEqual([
      Date.parse("2026-11-27T08:00:00Z"),
      1_800_000_000_000,
      undefined,
    ]);
    for (const k of keys) {
      expect(Object.keys(k.publicJwk).sort()).toEqual(
        k.alg === "RS256"
          ? ["alg", "e", "kid", "kty", "n", "use"]
          : ["alg", "crv", "kid", "kty", "use", "x", "y"],
      );
    }
  });

  it("names the key, never its material, when handoff_retired_at is malformed", async () => {
    const bad = await privateJwk("ES256", { handoff_retired_at: "yesterday" });
    const err = await parseSigningKeys(JSON.stringify({ keys: [bad] })).catch((e: Error) => e);
    expect(String(err)).toMatch(new RegExp(`kid ${bad.kid}.*handoff_retired_at`));
    expect(String(err)).not.toContain(String(bad.d));
  });
});

describe("rotation on a running server", () => {
  let dir: string;
  let file: string;
  let server: TestServer;
  let first: Record<string, unknown>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "handoff-keys-"));
    file = join(dir, "signing-keys.json");
    first = await privateJwk("ES256");
    writeFileSync(file, JSON.stringify({ keys: [first] }));
    server = await startTestServer({
      clients: LIFECYCLE_CLIENTS,
      keys: await loadSigningKeys(JSON.stringify({ keys: [first] })),
      signingKeysFile: file,
      signingKeysWatchMs: 0,
      accessTokenTtl: TTL,
    });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const jwksKids = async () => {
    const res = await fetch(`${server.issuer}/.well-known/jwks.json`);
    return ((await res.json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
  };

  it("RFC 9068 §4: a token signed before rotation still verifies against the published JWKS; new tokens use the new key", async () => {
    const before = await deviceTokens(server, await discover(server));
    expect(decodeProtectedHeader(before.access_token).kid).toBe(first.kid);

    const next = await privateJwk("RS256");
    const retired = { ...first, handoff_retired_at: Math.floor(Date.now() / 1000) };
    writeFileSync(file, JSON.stringify({ keys: [next, retired] }));
    expect(await server.reloadSigningKeys()).toBe(true);

    expect(await jwksKids()).toEqual([next.kid, first.kid]);
    const as = await discover(server); // a fresh JWKS cache, as a resource server after rotation
    expect((await validateAt(as, before.access_token, server.issuer)).sub).toBe("alice");

    const after = await deviceTokens(server, as);
    expect(decodeProtectedHeader(after.access_token)).toMatchObject({
      kid: next.kid,
      alg: "RS256",
    });
    expect((await validateAt(as, after.access_token, server.issuer)).sub).toBe("alice");

    // Introspection accepts both, as long as the retired key is published.
    for (const token of [before.access_token, after.access_token]) {
      const res = await server.post(
        "/oauth/introspect",
        { token },
        { authorization: `Bearer ${SERVICE_TOKEN}` },
      );
      expect(await res.json()).toMatchObject({ active: true });
    }
  });

  it("a broken key file is not installed: the keys in service keep signing, and no key material is logged", async () => {
    const kidsBefore = await jwksKids();
    writeFileSync(file, '{"keys": [ {"kid": "half-written"');
    expect(await server.reloadSigningKeys()).toBe(false);
    expect(await jwksKids()).toEqual(kidsBefore);
    const t = await deviceTokens(server, await discover(server));
    expect(kidsBefore).toContain(decodeProtectedHeader(t.access_token).kid);
    expect(server.logs()).toContain("signing keys not reloaded");
    expect(server.logs()).not.toContain(String(first.d));
  });

  it("SIGHUP reloads the key file", async () => {
    const third = await privateJwk("ES256");
    writeFileSync(file, JSON.stringify({ keys: [third] }));
    process.emit("SIGHUP", "SIGHUP");
    await vi.waitFor(async () => expect(await jwksKids()).toEqual([third.kid]), {
      timeout: 5000,
      interval: 20,
    });
  });
});

describe("rotation by file change", () => {
  it("a changed key file is picked up without a signal (stat polling)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "handoff-keys-"));
    const file = join(dir, "signing-keys.json");
    const a = await privateJwk("ES256");
    writeFileSync(file, JSON.stringify({ keys: [a] }));
    const server = await startTestServer({
      keys: await loadSigningKeys(JSON.stringify({ keys: [a] })),
      signingKeysFile: file,
      signingKeysWatchMs: 50,
    });
    try {
      const b = await privateJwk("ES256");
      writeFileSync(file, JSON.stringify({ keys: [b, { ...a, handoff_retired_at: 1 }] }));
      const as = await discover(server);
      await vi.waitFor(
        async () => {
          const jwks = await (await fetch(as.jwks_uri ?? "")).json();
          // a was retired long ago (1970): its tokens have expired, so it is not published.
          expect((jwks as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid)).toEqual([
            b.kid,
          ]);
        },
        { timeout: 5000, interval: 25 },
      );
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
