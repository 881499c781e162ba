/**
 * handoff/resource-server against a real handoff (its metadata and JWKS over
 * HTTP, nothing internal): RFC 9068 checks and RFC 6750 / RFC 9728 challenges.
 */
import { readFileSync } from "node:fs";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceServer } from "../../src/resource-server/index.js";
import { generateSigningKey, KeyRing } from "../../src/tokens/signing-keys.js";
import { sleep, startTestServer, type TestServer } from "../support/handoff-server.js";

const RESOURCE = "https://mcp.example.com/mcp";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server.close());

/** A real access token from handoff's device flow, for `resource`. */
async function handoffToken(resource = RESOURCE, scope = "read", on = server): Promise<string> {
  const res = await on.post("/oauth/device/authorize", {
    client_id: "public-cli",
    scope,
    resource,
  });
  const { device_code, user_code } = (await res.json()) as Record<string, string>;
  await on.flow.decide({ userCode: user_code as string, subject: "alice", approve: true });
  const tokens = (await (
    await on.post("/oauth/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: "public-cli",
      device_code: device_code as string,
    })
  ).json()) as Record<string, string>;
  return tokens.access_token as string;
}

describe("ResourceServer", () => {
  const rs = () => new ResourceServer({ issuer: server.issuer, resource: RESOURCE });

  it("accepts handoff's token for this resource, found through RFC 8414 metadata and the JWKS", async () => {
    const r = await rs().authenticate(`Bearer ${await handoffToken()}`);
    expect(r).toMatchObject({
      ok: true,
      token: { subject: "alice", clientId: "public-cli", scopes: ["read"] },
    });
  });

  it("RFC 6750 §3.1: no token is 401 with only resource_metadata (RFC 9728 §5.1)", async () => {
    const r = await rs().authenticate(undefined);
    expect(r).toMatchObject({ ok: false, status: 401, error: undefined });
    if (r.ok) return;
    expect(r.wwwAuthenticate).toBe(
      'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
    );
  });

  it("another audience, another issuer's key, garbage and another scheme are refused", async () => {
    const other = await rs().authenticate(`Bearer ${await handoffToken("https://other.example/")}`);
    expect(other).toMatchObject({ ok: false, status: 401, error: "invalid_token" });
    if (!other.ok) expect(other.wwwAuthenticate).toMatch(/error="invalid_token"/);
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT({ client_id: "x", scope: "read" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: "nope" })
      .setIssuer(server.issuer)
      .setAudience(RESOURCE)
      .setSubject("mallory")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    expect(await rs().authenticate(`Bearer ${forged}`)).toMatchObject({ status: 401 });
    expect(await rs().authenticate("Bearer not.a.jwt")).toMatchObject({ status: 401 });
    expect(await rs().authenticate("Basic dXNlcjpwdw==")).toMatchObject({
      status: 400,
      error: "invalid_request",
    });
  });

  it("RFC 6750 §3.1: a token without a needed scope is 403 insufficient_scope, naming the scope", async () => {
    const token = await handoffToken(RESOURCE, "read");
    const strict = new ResourceServer({
      issuer: server.issuer,
      resource: RESOURCE,
      requiredScopes: ["read"],
    });
    expect((await strict.authenticate(`Bearer ${token}`)).ok).toBe(true);
    const r = await strict.authenticate(`Bearer ${token}`, ["write"]);
    expect(r).toMatchObject({ ok: false, status: 403, error: "insufficient_scope" });
    if (!r.ok) expect(r.wwwAuthenticate).toMatch(/scope="read write"/);
  });

  it("RFC 9728 §2, §3.1: the metadata document and where it lives", () => {
    const r = new ResourceServer({
      issuer: server.issuer,
      resource: RESOURCE,
      scopesSupported: ["read"],
    });
    expect(r.metadataPath).toBe("/.well-known/oauth-protected-resource/mcp");
    expect(r.metadata()).toEqual({
      resource: RESOURCE,
      authorization_servers: [server.issuer],
      bearer_methods_supported: ["header"],
      scopes_supported: ["read"],
    });
  });

  it("the package exports it as handoff/resource-server, built from this source", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
      exports: Record<string, { import: string; types: string }>;
    };
    const entry = pkg.exports["./resource-server"];
    expect(entry?.import).toBe("./dist/src/resource-server/index.js");
    expect(entry?.types).toBe("./dist/src/resource-server/index.d.ts");
    const build = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as {
      include: string[];
      compilerOptions: { declaration: boolean };
    };
    expect(build.include).toContain("src");
    expect(build.compilerOptions.declaration).toBe(true);
  });
});

describe("ResourceServer across a signing-key rotation (docs/token-lifecycle.md)", () => {
  it("keeps accepting old tokens and accepts the new key's tokens without a restart, via the unknown-kid refetch", async () => {
    const [oldKey, newKey] = [await generateSigningKey("ES256"), await generateSigningKey("RS256")];
    const ring = new KeyRing([oldKey]);
    const rotating = await startTestServer({ keys: ring });
    try {
      const rs = new ResourceServer({
        issuer: rotating.issuer,
        resource: RESOURCE,
        jwksCooldownSeconds: 1,
      });
      const before = await handoffToken(RESOURCE, "read", rotating);
      expect((await rs.authenticate(`Bearer ${before}`)).ok).toBe(true);
      // Straight to step 3 of the recipe, without pre-publishing: the resource
      // server's cached JWKS lacks the new kid, so it must fetch again.
      ring.replace([newKey, { ...oldKey, retiredAt: Date.now() }]);
      const after = await handoffToken(RESOURCE, "read", rotating);
      expect(JSON.parse(Buffer.from(after.split(".")[0] ?? "", "base64url").toString()).kid).toBe(
        newKey.kid,
      );
      await sleep(1100); // past the cooldown since the first fetch
      const verified = await rs.authenticate(`Bearer ${after}`);
      expect(verified, JSON.stringify(verified)).toMatchObject({
        ok: true,
        token: { subject: "alice" },
      });
      // The retired key's tokens keep verifying until they expire.
      expect((await rs.authenticate(`Bearer ${before}`)).ok).toBe(true);
      // A kid nobody published is still refused after the refetch.
      const stranger = await generateSigningKey("ES256");
      const forged = await new SignJWT({ scope: "read", client_id: "public-cli" })
        .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: stranger.kid })
        .setIssuer(rotating.issuer)
        .setAudience(RESOURCE)
        .setSubject("mallory")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(stranger.privateKey);
      await sleep(1100);
      expect(await rs.authenticate(`Bearer ${forged}`)).toMatchObject({ ok: false, status: 401 });
    } finally {
      await rotating.close();
    }
  });
});
