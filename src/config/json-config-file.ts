/**
 * How the server reads its JSON configuration files (HANDOFF_CLIENTS_FILE,
 * HANDOFF_USERS_FILE): one reader, one parser, one error style, so each file
 * only declares its schema. Errors name the setting, the path and the first
 * bad field, never the file's contents (a users file holds password hashes).
 */
import { readFile } from "node:fs/promises";
import type { z } from "zod";

/** The file's text; undefined when it does not exist and `allowMissing` says that is fine. */
export function readConfigFile(setting: string, path: string): Promise<string>;
export function readConfigFile(
  setting: string,
  path: string,
  options: { readonly allowMissing: boolean },
): Promise<string | undefined>;
export async function readConfigFile(
  setting: string,
  path: string,
  options: { readonly allowMissing?: boolean } = {},
): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (options.allowMissing === true && code === "ENOENT") return undefined;
    throw new Error(`${setting}: cannot read ${path} (${code ?? "error"})`);
  }
}

/** JSON text checked against `schema`; throws an Error naming `source` and the first bad field. */
export function parseJsonConfig<S extends z.ZodType>(
  schema: S,
  text: string,
  source: string,
): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.join(".") ?? "";
    throw new Error(`${source}: ${where ? `${where}: ` : ""}${issue?.message ?? "invalid"}`);
  }
  return result.data;
}

/** Throws on the first entry whose `key` an earlier one already had (`duplicate <what> <key>`). */
export function requireUnique<T>(
  entries: readonly T[],
  key: (entry: T) => string,
  what: string,
  source: string,
): void {
  const seen = new Set<string>();
  for (const entry of entries) {
    const k = key(entry);
    if (seen.has(k)) throw new Error(`${source}: duplicate ${what} ${k}`);
    seen.add(k);
  }
}
