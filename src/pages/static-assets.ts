/** The stylesheet and script, served under content-hashed names with a year-long cache. */
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { CODE_INPUT_SCRIPT } from "./assets/code-input-script.js";
import { STYLESHEET } from "./assets/stylesheet.js";

interface Asset {
  readonly name: string;
  readonly type: string;
  readonly body: Buffer;
}

function asset(stem: string, ext: string, type: string, text: string): Asset {
  const body = Buffer.from(text, "utf8");
  const hash = createHash("sha256").update(body).digest("base64url").slice(0, 12);
  return { name: `${stem}.${hash}.${ext}`, type, body };
}

// Built once at import: nothing per request.
const STYLE = asset("style", "css", "text/css; charset=utf-8", STYLESHEET);
const SCRIPT = asset("code-input", "js", "text/javascript; charset=utf-8", CODE_INPUT_SCRIPT);
const BY_NAME = new Map([STYLE, SCRIPT].map((a) => [a.name, a]));

/** Asset file names, for the layout's `<link>` and `<script>`. */
export const ASSET_NAMES = { style: STYLE.name, script: SCRIPT.name } as const;

/** Serves `/assets/<name>` in the calling plugin's prefix. A changed file gets a new name, so caching forever is safe. */
export function staticAssets(app: FastifyInstance): void {
  app.get("/assets/:name", async (request, reply) => {
    const a = BY_NAME.get((request.params as { name: string }).name);
    if (!a) return reply.callNotFound();
    return reply
      .header("cache-control", "public, max-age=31536000, immutable")
      .type(a.type)
      .send(a.body);
  });
}
