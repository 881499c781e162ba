/** Redirect URIs: what may be registered, and what a request may name (RFC 6749 §3.1.2, RFC 8252 §7). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkRedirectUri,
  isRedirectUriProblem,
  matchRedirectUri,
} from "../../src/domain/redirect-uri.js";

function problemOf(uri: string): string | undefined {
  const r = checkRedirectUri(uri);
  return isRedirectUriProblem(r) ? r.problem : undefined;
}

describe("registering a redirect URI", () => {
  it("accepts https with any host, path and query", () => {
    expect(checkRedirectUri("https://app.example.com/callback")).toEqual({
      kind: "https",
      host: "app.example.com",
    });
    expect(checkRedirectUri("https://app.example.com:8443/cb?x=1")).toEqual({
      kind: "https",
      host: "app.example.com:8443",
    });
  });

  it("accepts loopback http on the IP literals and localhost, with or without a port (RFC 8252 §7.3, §8.3)", () => {
    for (const [uri, host] of [
      ["http://127.0.0.1/callback", "127.0.0.1"],
      ["http://127.0.0.1:33418", "127.0.0.1"],
      ["http://[::1]:8080/cb?x=1", "[::1]"],
      ["http://localhost:3000/callback", "localhost"],
    ] as const) {
      expect(checkRedirectUri(uri), uri).toEqual({ kind: "loopback", host });
    }
  });

  it("accepts reverse-domain private-use schemes (RFC 8252 §7.1)", () => {
    expect(checkRedirectUri("com.example.app:/oauth2redirect")).toEqual({
      kind: "private-use",
      scheme: "com.example.app",
    });
    expect(checkRedirectUri("io.github.someone.tool://callback")).toMatchObject({
      kind: "private-use",
    });
  });

  it("refuses fragments, even empty ones (RFC 6749 §3.1.2)", () => {
    for (const uri of [
      "https://app.example.com/cb#x",
      "https://app.example.com/cb#",
      "http://127.0.0.1:8080/#/cb",
      "com.example.app:/cb#frag",
    ]) {
      expect(problemOf(uri), uri).toMatch(/fragment/);
    }
  });

  it("refuses http to anything but loopback", () => {
    for (const uri of [
      "http://app.example.com/cb",
      "http://127.0.0.1.nip.io/cb",
      "http://localhost.example.com/cb",
      "http://10.0.0.1/cb",
      "http://127.0.0.1@evil.example/cb",
      "http://127.0.0.1:8080@evil.example/cb",
    ]) {
      expect(problemOf(uri), uri).toMatch(/loopback/);
    }
  });

  it("refuses loopback spellings a browser would rewrite, and bad ports", () => {
    for (const uri of [
      "http://127.1/cb",
      "http://0x7f.0.0.1/cb",
      "http://[0:0:0:0:0:0:0:1]/cb",
      "http://localhost./cb",
      "HTTP://127.0.0.1/cb",
      "http://127.0.0.2/cb",
    ]) {
      expect(problemOf(uri), uri).toBeDefined();
    }
    for (const uri of ["http://127.0.0.1:0/cb", "http://127.0.0.1:65536/cb", "http://[::1]:080/"]) {
      expect(problemOf(uri), uri).toMatch(/port/);
    }
  });

  it("refuses characters a browser would rewrite, credentials and dangerous schemes", () => {
    for (const uri of [
      "https://app.example.com\\@evil.example/cb",
      "https://app.example.com/c b",
      "https://app.example.com/cb\t",
      "https://app.example.com/cé",
      'https://app.example.com/"',
      "https://user:pw@app.example.com/cb",
      "https://@app.example.com/cb",
      "https://app.example.com/%zz",
      "javascript:alert(1)",
      "data:text/html,hi",
      "file:///etc/passwd",
      "myapp:/cb",
      "/relative/cb",
      "",
    ]) {
      expect(problemOf(uri), JSON.stringify(uri)).toBeDefined();
    }
  });

  it("never accepts a URI with a fragment or whitespace, whatever the rest (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom("#", " ", "\n", "\t"), fc.string(), (a, bad, b) => {
        const r = checkRedirectUri(`https://app.example.com/${a}${bad}${b}`);
        return isRedirectUriProblem(r);
      }),
    );
  });
});

describe("matching a requested redirect URI (OAuth 2.1 §2.3.1, RFC 8252 §7.3)", () => {
  const HTTPS = ["https://app.example.com/callback"];
  const LOOPBACK = ["http://127.0.0.1/callback", "http://[::1]:9000/cb?x=1"];

  it("matches an https URI only as the identical string", () => {
    expect(matchRedirectUri(HTTPS, "https://app.example.com/callback")).toBe(
      "https://app.example.com/callback",
    );
  });

  it("refuses port games on a non-loopback URI", () => {
    for (const uri of [
      "https://app.example.com:443/callback",
      "https://app.example.com:8443/callback",
      "https://app.example.com:/callback",
    ]) {
      expect(matchRedirectUri(HTTPS, uri), uri).toBeUndefined();
    }
    // http://localhost-style port freedom never applies to https, even on loopback hosts.
    expect(
      matchRedirectUri(["https://127.0.0.1:8443/cb"], "https://127.0.0.1:9443/cb"),
    ).toBeUndefined();
  });

  it("refuses path, query, case and host tricks", () => {
    for (const uri of [
      "https://app.example.com/callback/",
      "https://app.example.com/callback/../evil",
      "https://app.example.com/callback/..%2Fevil",
      "https://app.example.com/Callback",
      "https://app.example.com/c%61llback",
      "https://app.example.com/callbackx",
      "https://app.example.com/callback?next=https://evil.example",
      "https://app.example.com/callback#",
      "https://app.example.com/callback%23",
      "https://APP.example.com/callback",
      "https://app.example.com./callback",
      "https://app.example.com.evil.example/callback",
      "https://evil.example/https://app.example.com/callback",
      "https://app.example.com@evil.example/callback",
      "https://app.example.com\\@evil.example/callback",
      " https://app.example.com/callback",
      "http://app.example.com/callback",
      "https://app.example.com",
    ]) {
      expect(matchRedirectUri(HTTPS, uri), uri).toBeUndefined();
    }
  });

  it("matches loopback IP redirects on any port, path and query unchanged (RFC 8252 §7.3)", () => {
    expect(matchRedirectUri(LOOPBACK, "http://127.0.0.1:51234/callback")).toBe(
      "http://127.0.0.1:51234/callback",
    );
    expect(matchRedirectUri(LOOPBACK, "http://127.0.0.1/callback")).toBe(
      "http://127.0.0.1/callback",
    );
    expect(matchRedirectUri(LOOPBACK, "http://[::1]:1/cb?x=1")).toBe("http://[::1]:1/cb?x=1");
    expect(matchRedirectUri(["http://localhost:3000/cb"], "http://localhost:4000/cb")).toBe(
      "http://localhost:4000/cb",
    );
  });

  it("refuses loopback redirects whose host, path or query differ, or whose port is bad", () => {
    for (const uri of [
      "http://[::1]:51234/callback",
      "http://localhost:51234/callback",
      "http://127.0.0.1:51234/callback/",
      "http://127.0.0.1:51234/callback?x",
      "http://127.0.0.1:51234/callback#x",
      "http://127.0.0.1:51234/callback/../x",
      "http://127.0.0.1:51234",
      "http://127.0.0.1:0/callback",
      "http://127.0.0.1:99999/callback",
      "http://127.0.0.1:051234/callback",
      "http://127.0.0.1:51234@evil.example/callback",
      "http://127.0.0.1.evil.example:51234/callback",
      "http://127.1:51234/callback",
      "https://127.0.0.1:51234/callback",
      "http://[::1]:9000/cb",
      "http://[::1]:9000/cb?x=2",
    ]) {
      expect(matchRedirectUri(LOOPBACK, uri), uri).toBeUndefined();
    }
  });

  it("without a redirect_uri, uses the only registered URI unless it is loopback (RFC 6749 §3.1.2.3)", () => {
    expect(matchRedirectUri(HTTPS, undefined)).toBe(HTTPS[0]);
    expect(matchRedirectUri(["http://127.0.0.1/callback"], undefined)).toBeUndefined();
    expect(
      matchRedirectUri([...HTTPS, "https://app.example.com/other"], undefined),
    ).toBeUndefined();
    expect(matchRedirectUri([], undefined)).toBeUndefined();
  });

  it("never matches a client without redirect URIs", () => {
    expect(matchRedirectUri([], "https://app.example.com/callback")).toBeUndefined();
    expect(matchRedirectUri([], "http://127.0.0.1:8080/")).toBeUndefined();
  });

  it("returns either nothing or a URI that is the request itself and passes registration (property)", () => {
    const registered = [...HTTPS, ...LOOPBACK, "com.example.app:/cb"];
    fc.assert(
      fc.property(
        fc.constantFrom(...registered),
        fc.string(),
        fc.nat(70000),
        (base, junk, port) => {
          for (const uri of [
            base + junk,
            base.replace("127.0.0.1", `127.0.0.1:${port}`),
            base.replace(/\/cb|\/callback/, `$&${junk}`),
          ]) {
            const m = matchRedirectUri(registered, uri);
            if (m === undefined) continue;
            if (m !== uri || isRedirectUriProblem(checkRedirectUri(m))) return false;
          }
          return true;
        },
      ),
    );
  });
});
