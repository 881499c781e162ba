/** What every answer of the RFC endpoints must look like, checked on raw responses. */
import { expect } from "vitest";
import type { RawOutcome, RawResponse } from "./raw-http.js";

/** RFC 6749 §5.2: `error` and `error_description` use %x20-21 / %x23-5B / %x5D-7E only. */
export const RFC6749_ERROR_CHARSET = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

/** The response, failing the property if the server hung or closed without answering. */
export function answered(o: RawOutcome): RawResponse {
  expect(o.stalled, "the server neither answered nor closed").toBe(false);
  expect(
    o.response,
    `no HTTP response; got ${JSON.stringify(o.bytes.toString("latin1"))}`,
  ).toBeDefined();
  return o.response as RawResponse;
}

export interface ErrorExpectation {
  /** Cache-Control: no-store (RFC 6749 §5.1, RFC 8628 §3.2): the OAuth endpoints. */
  readonly noStore: boolean;
  /** The request was HEAD: headers only. */
  readonly head?: boolean;
}

/**
 * A well-formed client error (RFC 6749 §5.2; what oauth4webapi requires of errors): 4xx,
 * `application/json`, a JSON object whose `error` is a non-empty string in
 * the RFC 6749 character set, and no-store where asked. Returns the status
 * and `error` (empty for HEAD).
 */
export function expectClientError(
  r: RawResponse,
  o: ErrorExpectation,
): { status: number; error: string } {
  const context = `${r.status} ${r.body.toString("utf8").slice(0, 300)}`;
  expect(r.status, context).toBeGreaterThanOrEqual(400);
  expect(r.status, context).toBeLessThan(500);
  expect(r.headers.get("content-type"), context).toMatch(/^application\/json(;|$)/);
  if (o.noStore) expect(r.headers.get("cache-control"), context).toBe("no-store");
  if (o.head) return { status: r.status, error: "" };
  const body = JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
  expect(typeof body.error, context).toBe("string");
  const error = body.error as string;
  expect(error, context).toMatch(RFC6749_ERROR_CHARSET);
  if (body.error_description !== undefined) {
    expect(body.error_description, context).toMatch(RFC6749_ERROR_CHARSET);
  }
  if (r.status === 401 && error === "invalid_client") {
    // RFC 6749 §5.2: only a client that tried the Authorization header is challenged; never required otherwise.
    expect(r.headers.get("www-authenticate") ?? "Basic realm", context).toMatch(/^Basic /i);
  }
  return { status: r.status, error };
}

/** RFC 8628 §3.2: the device authorization response. */
export function expectDeviceAuthorization(r: RawResponse): void {
  const context = `${r.status} ${r.body.toString("utf8").slice(0, 300)}`;
  expect(r.status, context).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json(;|$)/);
  expect(r.headers.get("cache-control")).toBe("no-store");
  const body = JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
  expect(body).toMatchObject({
    device_code: expect.stringMatching(/^[\x21-\x7e]{43,}$/),
    user_code: expect.stringMatching(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/),
    verification_uri: expect.any(String),
    verification_uri_complete: expect.any(String),
  });
  expect(Number.isInteger(body.expires_in)).toBe(true);
  expect(Number.isInteger(body.interval)).toBe(true);
}

/** RFC 6749 §5.1: the token response. */
export function expectTokenResponse(r: RawResponse): void {
  const context = `${r.status} ${r.body.toString("utf8").slice(0, 300)}`;
  expect(r.status, context).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json(;|$)/);
  expect(r.headers.get("cache-control")).toBe("no-store");
  const body = JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
  expect(body).toMatchObject({
    access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
    token_type: "Bearer",
    expires_in: expect.any(Number),
  });
}

/** RFC 8414 §3: the metadata document. */
export function expectMetadata(r: RawResponse, issuer: string, head: boolean): void {
  const context = `${r.status} ${r.body.toString("utf8").slice(0, 300)}`;
  expect(r.status, context).toBe(200);
  expect(r.headers.get("content-type")).toMatch(/^application\/json(;|$)/);
  if (head) return;
  const body = JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
  expect(body.issuer).toBe(issuer);
}
