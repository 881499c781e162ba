import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseUsers } from "../../src/auth/users-file.js";
import { parseClients } from "../../src/config/clients-file.js";
import {
  parseJsonConfig,
  readConfigFile,
  requireUnique,
} from "../../src/config/json-config-file.js";

const Schema = z.object({ items: z.array(z.object({ id: z.string().min(2) }).strict()) }).strict();

describe("one reader for the JSON configuration files (clients, users)", () => {
  it("names the source and the first bad field, not the file's contents", () => {
    expect(() => parseJsonConfig(Schema, "{", "SRC (f.json)")).toThrow(
      /^SRC \(f\.json\): not valid JSON/,
    );
    expect(() =>
      parseJsonConfig(Schema, '{"items":[{"id":"s3cret-but-x","more":1}]}', "SRC"),
    ).toThrow(/^SRC: items\.0: /);
    const bad = () => parseJsonConfig(Schema, '{"items":[{"id":"s"}]}', "SRC");
    expect(bad).toThrow(/^SRC: items\.0\.id: /);
    expect(bad).not.toThrow(/"s"/);
  });

  it("refuses a duplicate key", () => {
    expect(() => requireUnique([{ k: "a" }, { k: "a" }], (e) => e.k, "thing", "SRC")).toThrow(
      "SRC: duplicate thing a",
    );
  });

  it("a missing file is an error naming the setting, or nothing when allowed", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "handoff-json-")), "nope.json");
    await expect(readConfigFile("HANDOFF_X_FILE", missing)).rejects.toThrow(
      `HANDOFF_X_FILE: cannot read ${missing} (ENOENT)`,
    );
    expect(await readConfigFile("HANDOFF_X_FILE", missing, { allowMissing: true })).toBeUndefined();
    const there = join(mkdtempSync(join(tmpdir(), "handoff-json-")), "x.json");
    writeFileSync(there, "{}");
    expect(await readConfigFile("HANDOFF_X_FILE", there)).toBe("{}");
  });

  it("both files use it: the same error shapes", () => {
    expect(() => parseClients("[", "C")).toThrow(/^C: not valid JSON/);
    expect(() => parseUsers("[", "U")).toThrow(/^U: not valid JSON/);
    expect(() =>
      parseClients(
        JSON.stringify({
          clients: [
            { client_id: "a", grant_types: ["urn:ietf:params:oauth:grant-type:device_code"] },
            { client_id: "a", grant_types: ["urn:ietf:params:oauth:grant-type:device_code"] },
          ],
        }),
        "C",
      ),
    ).toThrow("C: duplicate client_id a");
    const hash = `scrypt:16384:8:1:${"a".repeat(22)}:${"b".repeat(43)}`;
    expect(() =>
      parseUsers(
        JSON.stringify({
          users: [
            { username: "alice", password_hash: hash },
            { username: "alice", password_hash: hash },
          ],
        }),
        "U",
      ),
    ).toThrow("U: duplicate username alice");
  });
});
