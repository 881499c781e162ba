/** The local users file: JSON with scrypt password hashes, read at start and written by `handoff users add`. */
import { rename, writeFile } from "node:fs/promises";
import { z } from "zod";
import { parseJsonConfig, readConfigFile, requireUnique } from "../config/json-config-file.js";

/** One local user; `username` becomes the `sub` of tokens approved by this user. */
export interface LocalUser {
  readonly username: string;
  readonly passwordHash: string;
}

/** Letters, digits and `. _ @ + -`: safe in a `sub` claim, a log line and an HTML page. */
export const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;

const UsersFile = z
  .object({
    users: z.array(
      z
        .object({
          username: z.string().regex(USERNAME, "1 to 64 letters, digits or . _ @ + -"),
          password_hash: z
            .string()
            .regex(/^scrypt:\d+:\d+:\d+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/, "scrypt:… (see README)"),
        })
        .strict(),
    ),
  })
  .strict();

/** Parses the users file's text; throws an Error naming the bad entry. */
export function parseUsers(text: string, source: string): LocalUser[] {
  const { users } = parseJsonConfig(UsersFile, text, source);
  requireUnique(users, (u) => u.username, "username", source);
  return users.map((u) => ({ username: u.username, passwordHash: u.password_hash }));
}

/** Reads a users file; a missing file is an empty list only when `allowMissing`. */
export async function loadUsersFile(path: string, allowMissing = false): Promise<LocalUser[]> {
  const text = await readConfigFile("HANDOFF_USERS_FILE", path, { allowMissing });
  return text === undefined ? [] : parseUsers(text, `HANDOFF_USERS_FILE (${path})`);
}

/** Adds a user or replaces their hash, writing the file atomically and readable by its owner only. */
export async function upsertUser(path: string, user: LocalUser): Promise<"added" | "updated"> {
  const users = await loadUsersFile(path, true);
  const i = users.findIndex((u) => u.username === user.username);
  if (i === -1) users.push(user);
  else users[i] = user;
  const body = {
    users: users.map((u) => ({ username: u.username, password_hash: u.passwordHash })),
  };
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return i === -1 ? "added" : "updated";
}
