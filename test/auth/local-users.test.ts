/** Local users: scrypt password hashes, the users file, and `handoff users add` writing it. */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LocalAuthenticator } from "../../src/auth/local-authenticator.js";
import { loadUsersFile, parseUsers, upsertUser } from "../../src/auth/users-file.js";
import { hashScrypt, verifyScrypt, verifySecret } from "../../src/domain/secret-hash.js";

const root = join(import.meta.dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");
const main = join(root, "src", "cli", "main.ts");
const tmp = () => mkdtempSync(join(tmpdir(), "handoff-users-"));

describe("password hashes", () => {
  it("verify the right password and no other, salted so equal passwords hash apart", async () => {
    const h = await hashScrypt("hunter2 hunter2", 1024);
    expect(h).toMatch(/^scrypt:1024:8:1:[\w-]{22}:[\w-]{43}$/);
    expect(await verifyScrypt("hunter2 hunter2", h)).toBe(true);
    expect(await verifyScrypt("hunter2 hunter3", h)).toBe(false);
    expect(await hashScrypt("hunter2 hunter2", 1024)).not.toBe(h);
  });

  it("share the scrypt format and its checks with client secrets (`handoff secrets hash`)", async () => {
    expect(await verifySecret("s3cret pass", await hashScrypt("s3cret pass", 1024))).toBe(true);
  });

  it("never verify against a malformed or foreign hash", async () => {
    for (const bad of ["", "sha256:abc", "scrypt:1:8:1:c2FsdA:a2V5", "scrypt:x:8:1:a:b"]) {
      expect(await verifyScrypt("anything", bad)).toBe(false);
    }
  });
});

describe("the users file", () => {
  it("names the entry that is wrong", () => {
    expect(() =>
      parseUsers('{"users":[{"username":"a b","password_hash":"scrypt:1:1:1:a:b"}]}', "F"),
    ).toThrow(/F: users\.0\.username/);
    expect(() => parseUsers('{"users":[{"username":"a","password_hash":"plain"}]}', "F")).toThrow(
      /password_hash/,
    );
    const dup = JSON.stringify({
      users: [1, 2].map(() => ({ username: "a", password_hash: "scrypt:1:1:1:a:b" })),
    });
    expect(() => parseUsers(dup, "F")).toThrow(/duplicate username a/);
  });

  it("is written atomically, readable by its owner only, adding or replacing a user", async () => {
    const file = join(tmp(), "users.json");
    expect(await upsertUser(file, { username: "ann", passwordHash: "scrypt:1:1:1:a:b" })).toBe(
      "added",
    );
    expect(await upsertUser(file, { username: "ben", passwordHash: "scrypt:1:1:1:c:d" })).toBe(
      "added",
    );
    expect(await upsertUser(file, { username: "ann", passwordHash: "scrypt:1:1:1:e:f" })).toBe(
      "updated",
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await loadUsersFile(file)).toEqual([
      { username: "ann", passwordHash: "scrypt:1:1:1:e:f" },
      { username: "ben", passwordHash: "scrypt:1:1:1:c:d" },
    ]);
  });
});

describe("handoff users add", () => {
  const add = (args: string[], password: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        tsx,
        [main, "users", "add", ...args],
        { cwd: root, env: { PATH: process.env.PATH ?? "", ...env } },
        (err, stdout, stderr) =>
          resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout, stderr }),
      );
      child.stdin?.end(`${password}\n`);
    });

  it("writes a user whose password then signs in, to --file or HANDOFF_USERS_FILE", async () => {
    const file = join(tmp(), "users.json");
    const other = join(tmp(), "users.json");
    const [r, viaEnv] = await Promise.all([
      add(["carol", "--file", file], "a long passphrase"),
      add(["dave"], "another passphrase", { HANDOFF_USERS_FILE: other }),
    ]);
    expect(r).toMatchObject({ code: 0, stdout: `added carol in ${file}\n` });
    expect(viaEnv).toMatchObject({ code: 0, stdout: `added dave in ${other}\n` });
    const text = readFileSync(file, "utf8");
    expect(text).not.toContain("a long passphrase");
    const local = new LocalAuthenticator([
      ...(await loadUsersFile(file)),
      ...(await loadUsersFile(other)),
    ]);
    expect(await local.check("carol", "a long passphrase")).toBe("carol");
    expect(await local.check("dave", "another passphrase")).toBe("dave");
    expect(await local.check("carol", "another passphrase")).toBeUndefined();
    expect(await local.check("nobody", "a long passphrase")).toBeUndefined();
  });

  it("refuses a short password, a bad user name and a missing file setting", async () => {
    const file = join(tmp(), "users.json");
    const [short, badName, noFile] = await Promise.all([
      add(["erin", "--file", file], "short"),
      add(["bad name!", "--file", file], "long enough"),
      add(["erin"], "long enough"),
    ]);
    expect(short.stderr).toMatch(/at least 8/);
    expect(badName.stderr).toMatch(/user name/);
    expect(noFile.stderr).toMatch(/HANDOFF_USERS_FILE/);
    for (const r of [short, badName, noFile]) expect(r.code).toBe(1);
  });

  it("a hand-edited users file with a bad entry stops the start, naming it", async () => {
    const file = join(tmp(), "users.json");
    writeFileSync(file, '{"users":[{"username":"x"}]}');
    await expect(loadUsersFile(file)).rejects.toThrow(
      /HANDOFF_USERS_FILE .*users\.0\.password_hash/,
    );
  });
});
