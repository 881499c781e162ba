/**
 * The selectors `handoff login`, `token` and `logout` share: which server
 * (--issuer or --mcp), which client, which scopes and audiences; they also
 * pick the cache entry (docs/client.md).
 */
import { parseArgs } from "node:util";
import { UsageError } from "./exit-codes.js";

/** The public client `handoff start-dev` seeds (src/config/dev-seed.ts). */
export const DEFAULT_CLIENT_ID = "demo-cli";

export interface LoginArgs {
  readonly issuer?: string;
  readonly mcp?: string;
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly resource?: readonly string[];
  readonly json: boolean;
  readonly browser: boolean;
}

function httpUrl(flag: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`--${flag} ${value} is not a URL`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:")
    throw new UsageError(`--${flag} must be an http(s) URL`);
  return value;
}

/** Parses the selectors; throws UsageError for anything else. */
export function parseLoginArgs(argv: readonly string[]): LoginArgs {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if ((values.issuer === undefined) === (values.mcp === undefined))
    throw new UsageError("give exactly one of --issuer URL or --mcp URL");
  if (values["client-id"] === "") throw new UsageError("--client-id must not be empty");
  const resource = values.resource?.map((r) => httpUrl("resource", r));
  return {
    ...(values.issuer !== undefined ? { issuer: httpUrl("issuer", values.issuer) } : {}),
    ...(values.mcp !== undefined ? { mcp: httpUrl("mcp", values.mcp) } : {}),
    clientId: values["client-id"] ?? DEFAULT_CLIENT_ID,
    // --scope "read write" and --scope read --scope write mean the same.
    scope: (values.scope ?? []).flatMap((s) => s.split(/\s+/)).filter((s) => s !== ""),
    ...(resource && resource.length > 0 ? { resource } : {}),
    json: values.json ?? false,
    browser: !(values["no-browser"] ?? false),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      issuer: { type: "string" },
      mcp: { type: "string" },
      "client-id": { type: "string" },
      scope: { type: "string", multiple: true },
      resource: { type: "string", multiple: true },
      json: { type: "boolean" },
      "no-browser": { type: "boolean" },
    },
  });
}
