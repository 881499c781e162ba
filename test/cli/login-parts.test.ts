/**
 * The small rules of `handoff login` (docs/client.md): when a browser may be
 * opened, what of the server's text reaches the terminal, the countdown and
 * the selectors.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/cli/exit-codes.js";
import { parseLoginArgs } from "../../src/cli/login-args.js";
import { jsonOutput, plainOutput, printable } from "../../src/cli/login-output.js";
import { codeBox, countdown } from "../../src/cli/login-screen.js";
import { canOpenBrowser, openBrowser } from "../../src/cli/open-browser.js";

describe("canOpenBrowser: only where a browser shows up in front of the person", () => {
  it.each([
    [{ DISPLAY: ":0" }, "linux", true],
    [{ WAYLAND_DISPLAY: "wayland-0" }, "linux", true],
    [{}, "linux", false],
    [{}, "freebsd", false],
    [{}, "darwin", true],
    [{}, "win32", true],
    [{ DISPLAY: ":0", SSH_CONNECTION: "10.0.0.1 5000 10.0.0.2 22" }, "linux", false],
    [{ SSH_TTY: "/dev/pts/1" }, "darwin", false],
    [{ SSH_CLIENT: "10.0.0.1 5000 22" }, "win32", false],
  ] as const)("%o on %s → %s", (env, platform, expected) => {
    expect(canOpenBrowser(env, platform)).toBe(expected);
  });

  it("opens http(s) URLs only: a server cannot make it run file: or other schemes", async () => {
    for (const url of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "not a url",
      "smb://host/share",
    ])
      expect(await openBrowser(url)).toBe(false);
  });
});

describe("what the server sent, on the terminal", () => {
  it("control characters are stripped, so a hostile code cannot drive the terminal", () => {
    expect(printable("ABCD\u001b[2J\u001b]0;pwned\u0007-EFGH\u009b")).toBe("ABCD[2J]0;pwned-EFGH");
    const out = new PassThrough();
    let text = "";
    out.on("data", (d) => {
      text += String(d);
    });
    plainOutput(out).prompt(
      {
        userCode: "AB\u001b[31mCD",
        verificationUri: "http://x/device\u001b[2J",
        expiresAt: new Date(Date.now() + 60_000),
        interval: 5,
      },
      false,
    );
    expect(text).not.toContain("\u001b");
    expect(text).toContain("enter the code AB[31mCD");
  });

  it("JSON events escape instead (JSON.stringify): still no raw ESC byte on stdout", () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (d) => {
      text += String(d);
    });
    jsonOutput(out).prompt(
      {
        userCode: "AB\u001bCD",
        verificationUri: "http://x/device",
        expiresAt: new Date(),
        interval: 5,
      },
      false,
    );
    expect(text).not.toContain("\u001b");
    expect(JSON.parse(text).user_code).toBe("AB\u001bCD");
  });
});

describe("the screen's parts", () => {
  it("countdown: m:ss, rounded up, never negative", () => {
    expect(countdown(1_000_000 + 900_000, 1_000_000)).toBe("15:00");
    expect(countdown(1_000_000 + 59_001, 1_000_000)).toBe("1:00");
    expect(countdown(1_000_000 + 9_500, 1_000_000)).toBe("0:10");
    expect(countdown(1_000_000 - 5_000, 1_000_000)).toBe("0:00");
  });

  it("the code box: letter-spaced, every line the same width", () => {
    const box = codeBox("WDJB-MJHT");
    expect(box[2]).toContain("W D J B - M J H T");
    expect(new Set(box.map((l) => [...l].length)).size).toBe(1);
  });
});

describe("the selectors", () => {
  it("defaults: demo-cli, no scope, browser allowed; --scope splits and repeats", () => {
    expect(parseLoginArgs(["--issuer", "http://localhost:8080"])).toEqual({
      issuer: "http://localhost:8080",
      clientId: "demo-cli",
      scope: [],
      json: false,
      browser: true,
    });
    const a = parseLoginArgs([
      "--mcp",
      "https://mcp.example/mcp",
      "--client-id",
      "cli",
      "--scope",
      "read write",
      "--scope",
      "admin",
      "--resource",
      "https://a.example/",
      "--resource",
      "https://b.example/",
      "--json",
      "--no-browser",
    ]);
    expect(a).toMatchObject({
      mcp: "https://mcp.example/mcp",
      clientId: "cli",
      scope: ["read", "write", "admin"],
      resource: ["https://a.example/", "https://b.example/"],
      json: true,
      browser: false,
    });
  });

  it.each([
    [[]],
    [["--issuer", "http://a", "--mcp", "http://b"]],
    [["--issuer", "ftp://a"]],
    [["--issuer", "http://a", "--resource", "urn:x"]],
    [["--issuer", "http://a", "--client-id", ""]],
    [["--issuer", "http://a", "extra"]],
    [["--issuer"]],
  ])("usage error: %j", (argv) => {
    expect(() => parseLoginArgs(argv)).toThrow(UsageError);
  });
});
