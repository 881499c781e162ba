import { describe, expect, it } from "vitest";
import type { Client } from "../../src/domain/client.js";
import { parseScope, requireSubset, resolveScopes } from "../../src/domain/scope.js";

const client: Client = {
  id: "c",
  name: "C",
  grantTypes: [],
  scopes: ["read", "write"],
  defaultScopes: ["read"],
  redirectUris: [],
  active: true,
};

describe("scope (RFC 6749 §3.3)", () => {
  it("splits on spaces and folds duplicates", () => {
    expect(parseScope("read  write read")).toEqual(["read", "write"]);
  });
  it("refuses characters outside scope-token", () => {
    expect(() => parseScope('re"ad')).toThrow(expect.objectContaining({ code: "invalid_scope" }));
    expect(() => parseScope("réad")).toThrow(expect.objectContaining({ code: "invalid_scope" }));
  });
  it("uses the client's defaults when none is requested (RFC 6749 §3.3)", () => {
    expect(resolveScopes(client, undefined)).toEqual(["read"]);
    expect(resolveScopes(client, [])).toEqual(["read"]);
  });
  it("refuses a scope the client may not have (RFC 8628 §3.2 invalid_scope)", () => {
    expect(() => resolveScopes(client, ["admin"])).toThrow(
      expect.objectContaining({ code: "invalid_scope" }),
    );
  });
  it("lets a decision narrow but never widen", () => {
    expect(() => requireSubset(["read"], ["read", "write"])).not.toThrow();
    expect(() => requireSubset(["admin"], ["read"])).toThrow(
      expect.objectContaining({ code: "invalid_scope" }),
    );
  });
});
