/** The token-lifecycle settings: defaults, and every limit refused with a message naming the variable. */
import { describe, expect, it } from "vitest";
import { readSettings } from "../../src/config/settings.js";

describe("token-lifecycle settings", () => {
  it("defaults: 14-day idle and 30-day absolute refresh lifetimes, a 1000-token reuse window, 30 s key-file checks", () => {
    expect(readSettings({})).toMatchObject({
      HANDOFF_REFRESH_TOKEN_IDLE_TTL: 1_209_600,
      HANDOFF_REFRESH_TOKEN_TTL: 2_592_000,
      HANDOFF_REFRESH_REUSE_WINDOW: 1000,
      HANDOFF_SIGNING_KEYS_WATCH_MS: 30_000,
    });
  });

  it.each([
    ["HANDOFF_REFRESH_TOKEN_IDLE_TTL", "59", "31536001"],
    ["HANDOFF_REFRESH_TOKEN_TTL", "59", "31536001"],
    ["HANDOFF_REFRESH_REUSE_WINDOW", "0", "100001"],
    ["HANDOFF_SIGNING_KEYS_WATCH_MS", "-1", "3600001"],
  ])("%s: refuses %s and %s", (name, low, high) => {
    for (const value of [low, high, "soon"]) {
      expect(() => readSettings({ [name]: value })).toThrow(
        new RegExp(`${name}: must be a whole number`),
      );
    }
  });
});
