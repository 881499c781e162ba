/**
 * fastify's inject() (light-my-request) serialises `cookies` with the `cookie`
 * package. package.json overrides that dependency to cookie@1.1.1: cookie@2 is
 * ESM-only and declares node>=22, so `npm ci` warned EBADENGINE and on Node
 * 20.11–20.18 (no require(esm)) inject() would throw ERR_REQUIRE_ESM. This test
 * breaks if the overridden version lacks the API light-my-request calls.
 */
import Fastify from "fastify";
import { describe, expect, it } from "vitest";

describe("fastify inject with the Node-20 cookie override", () => {
  it("sends the cookies given to inject() as one Cookie header", async () => {
    const app = Fastify();
    app.get("/echo", async (request) => ({ cookie: request.headers.cookie ?? null }));
    try {
      const res = await app.inject({ method: "GET", url: "/echo", cookies: { a: "1", b: "x y" } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ cookie: "a=1; b=x%20y" });
    } finally {
      await app.close();
    }
  });
});
