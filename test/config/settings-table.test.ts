/** The README's settings table and the declaration in src/config/settings.ts cannot drift apart. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { settingsTable, withSettingsTable } from "../../scripts/settings-table.js";
import { readSettings, SETTINGS } from "../../src/config/settings.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the settings table", () => {
  it("in README.md is the one generated from the declaration (run `npm run docs:settings`)", () => {
    expect(readme).toBe(withSettingsTable(readme));
  });

  it("has one row per declared setting, and every HANDOFF_ variable the README names is declared", () => {
    const table = settingsTable();
    for (const name of Object.keys(SETTINGS)) expect(table).toContain(`| \`${name}\` |`);
    const named = new Set(readme.match(/\bHANDOFF_[A-Z0-9_]+\b/g));
    for (const name of named) expect(Object.keys(SETTINGS)).toContain(name);
  });

  it("shows the defaults the schema applies", () => {
    const defaults = readSettings({});
    for (const [name, d] of Object.entries(SETTINGS)) {
      const value = defaults[name as keyof typeof defaults];
      if (typeof value === "number" || (typeof value === "string" && value !== "")) {
        expect(d.shownDefault, name).toContain(`\`${value}\``);
      }
    }
  });
});
