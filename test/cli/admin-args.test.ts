/**
 * The admin commands' argv (`handoff clients`, `grants`, `pending`): ids are
 * base64url or chosen by people, so one may begin with "-"; it is still an
 * id, never a flag (none of these commands has short flags).
 */
import { describe, expect, it } from "vitest";
import { parseAdminArgs } from "../../src/cli/clients-command.js";
import { UsageError } from "../../src/cli/exit-codes.js";

const OPTIONS = { client: { type: "string" } } as const;

describe("parseAdminArgs", () => {
  it("an id that begins with a dash is the positional id, wherever it stands", () => {
    for (const argv of [
      ["revoke", "-Xk9_ab", "--server", "http://127.0.0.1:1"],
      ["revoke", "--server", "http://127.0.0.1:1", "-Xk9_ab"],
      ["revoke", "--server", "http://127.0.0.1:1", "--", "-Xk9_ab"],
    ]) {
      const a = parseAdminArgs(argv, OPTIONS);
      expect([a.verb, a.id, a.values.server]).toEqual(["revoke", "-Xk9_ab", "http://127.0.0.1:1"]);
    }
  });

  it("a dash-led value of a string flag is that flag's value; a boolean flag takes none", () => {
    const a = parseAdminArgs(["list", "--client", "-cli", "--json"], OPTIONS);
    expect([a.verb, a.id, a.values.client, a.values.json]).toEqual([
      "list",
      undefined,
      "-cli",
      true,
    ]);
    const b = parseAdminArgs(["show", "--json", "-cli"], OPTIONS);
    expect([b.verb, b.id, b.values.json]).toEqual(["show", "-cli", true]);
  });

  it("still refuses what makes no sense: an unknown flag, a third positional, no verb", () => {
    expect(() => parseAdminArgs(["list", "--nope"], OPTIONS)).toThrow(UsageError);
    expect(() => parseAdminArgs(["revoke", "-a", "-b"], OPTIONS)).toThrow(UsageError);
    expect(() => parseAdminArgs(["--json"], OPTIONS)).toThrow(UsageError);
  });
});
