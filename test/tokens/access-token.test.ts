/** RFC 9068 access tokens: what `verify` (introspection's check) accepts and refuses  */
import { SignJWT, UnsecuredJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { mintJti } from "../../src/domain/refresh-token.js";
import { AccessTokenIssuer, RETIRED_KEY_SLACK_MS } from "../../src/tokens/access-token.js";
import { generateSigningKey, KeyRing, type SigningKey } from "../../src/tokens/signing-keys.js";

const ISSUER = "https://auth.example.com";
const NOW = 1_800_000_000_000;
let key: SigningKey;
let issuer: AccessTokenIssuer;

beforeAll(async () => {
  key = await generateSigningKey("ES256");
  issuer = new AccessTokenIssuer(
    new KeyRing([key]),
    { issuer: ISSUER, ttlSeconds: 300, defaultAudience: ISSUER },
    () => NOW,
  );
});

const input = (over = {}) => ({
  clientId: "cli",
  subject: "alice",
  scopes: ["read", "write"],
  resources: [] as string[],
  jti: mintJti(),
  issuedAt: NOW,
  ...over,
});

describe("AccessTokenIssuer.verify", () => {
  it("RFC 9068: returns the claims of a live token, aud always as a list", async () => {
    const token = await issuer.sign(
      input({ resources: ["https://a.example/", "https://b.example/"] }),
    );
    expect(await issuer.verify(token, NOW + 1000)).toMatchObject({
      iss: ISSUER,
      sub: "alice",
      client_id: "cli",
      scope: "read write",
      aud: ["https://a.example/", "https://b.example/"],
      exp: NOW / 1000 + 300,
    });
  });

  it("RFC 7519 §4.1.4: an expired token is refused (exp is exclusive)", async () => {
    const token = await issuer.sign(input());
    expect(await issuer.verify(token, NOW + 299_000)).not.toBeNull();
    expect(await issuer.verify(token, NOW + 300_000)).toBeNull();
  });

  it("RFC 9068: refuses alg none, another issuer, another typ, an unknown kid and a tampered payload", async () => {
    const none = new UnsecuredJWT({ client_id: "cli", scope: "read" })
      .setIssuer(ISSUER)
      .setSubject("alice")
      .setAudience(ISSUER)
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(NOW / 1000 + 300)
      .setJti(mintJti())
      .encode();
    const sign = (header: Record<string, string>, iss = ISSUER, k = key) =>
      new SignJWT({ client_id: "cli", scope: "read" })
        .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: "at+jwt", ...header })
        .setIssuer(iss)
        .setSubject("alice")
        .setAudience(ISSUER)
        .setIssuedAt(NOW / 1000)
        .setExpirationTime(NOW / 1000 + 300)
        .setJti(mintJti())
        .sign(k.privateKey);
    const stranger = await generateSigningKey("ES256");
    const good = await issuer.sign(input());
    const [h, , sig] = good.split(".");
    const tampered = `${h}.${Buffer.from('{"sub":"mallory"}').toString("base64url")}.${sig}`;
    for (const token of [
      none,
      await sign({}, "https://evil.example"),
      await sign({ typ: "JWT" }),
      await sign({}, ISSUER, stranger),
      await sign({ kid: key.kid }, ISSUER, { ...stranger, kid: key.kid }),
      tampered,
      "not.a.jwt",
    ]) {
      expect(await issuer.verify(token, NOW + 1000)).toBeNull();
    }
    expect(await issuer.verify(await sign({}), NOW + 1000)).not.toBeNull();
  });
});

describe("AccessTokenIssuer.publishedJwks", () => {
  it("RFC 9068 §4: a retired key stays published for the token life plus the reload slack, then drops", async () => {
    const next = await generateSigningKey("RS256");
    const ring = new KeyRing([key]);
    const rotating = new AccessTokenIssuer(ring, {
      issuer: ISSUER,
      ttlSeconds: 300,
      defaultAudience: ISSUER,
    });
    const before = await rotating.sign(input());
    ring.replace([next, { ...key, retiredAt: NOW }]);
    const until = NOW + 300_000 + RETIRED_KEY_SLACK_MS;
    expect(rotating.publishedJwks(until - 1).keys.map((k) => k.kid)).toEqual([next.kid, key.kid]);
    expect(rotating.publishedJwks(until).keys.map((k) => k.kid)).toEqual([next.kid]);
    // The token signed before the rotation verifies until it expires.
    expect(await rotating.verify(before, NOW + 299_000)).not.toBeNull();
    const after = await rotating.sign(input());
    expect(
      JSON.parse(Buffer.from(after.split(".")[0] ?? "", "base64url").toString()),
    ).toMatchObject({
      kid: next.kid,
      alg: "RS256",
    });
  });
});
