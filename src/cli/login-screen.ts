/**
 * `handoff login` on a terminal: the user code large and clear, the
 * verification URI, a QR code of the URI with the code filled in (RFC 8628
 * §3.3.1), and one live line with a spinner and the time left before the
 * code expires. The cursor is hidden while the line is live and always
 * restored, on success, failure and Ctrl-C alike.
 */
import type { DevicePrompt } from "../client/device-login.js";
import { type LoginOutput, printable } from "./login-output.js";

const ESC = "\u001b[";
const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
/** Spinner frame period: smooth enough to look alive, cheap on a loaded machine. */
const TICK_MS = 120;

/** `m:ss` left until `at`. */
export function countdown(at: number, now = Date.now()): string {
  const s = Math.max(0, Math.ceil((at - now) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The code, letter-spaced in a box, so it reads at a glance and is hard to mistype. */
export function codeBox(code: string): string[] {
  const spaced = [...code].join(" ");
  const inner = " ".repeat(4) + spaced + " ".repeat(4);
  const bar = "─".repeat(inner.length);
  const blank = " ".repeat(inner.length);
  return [`╭${bar}╮`, `│${blank}│`, `│${inner}│`, `│${blank}│`, `╰${bar}╯`];
}

/** The QR code as terminal lines (half-block characters, black on white), or none if it does not fit. */
async function qrLines(text: string, out: NodeJS.WriteStream): Promise<string[]> {
  const { default: QRCode } = await import("qrcode");
  const qr = await QRCode.toString(text, {
    type: "terminal",
    small: true,
    errorCorrectionLevel: "L",
  });
  const lines = qr.replace(/\n$/, "").split("\n");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the colour codes are not columns.
  const width = [...(lines[0] ?? "").replace(/\u001b\[[0-9;]*m/g, "")].length;
  const fits =
    (out.rows === undefined || out.rows >= lines.length + 16) &&
    (out.columns === undefined || out.columns >= width + 4);
  return fits ? lines : [];
}

export function terminalScreen(
  out: NodeJS.WriteStream,
  o: { readonly issuer: string; readonly color: boolean },
): LoginOutput {
  const paint = (codes: string, s: string) => (o.color ? `${ESC}${codes}m${s}${ESC}0m` : s);
  const bold = (s: string) => paint("1", s);
  const dim = (s: string) => paint("2", s);
  const cyan = (s: string) => paint("36", s);
  const write = (s: string) => out.write(s);
  let timer: ReturnType<typeof setInterval> | undefined;
  let live = false;
  let expiresAt = 0;
  let how = "";
  let frame = 0;
  const restoreCursor = () => out.write(`${ESC}?25h`);

  const status = () => {
    const left = countdown(expiresAt);
    const urgent = expiresAt - Date.now() < 60_000;
    const via = how === "poll" ? dim(" (polling)") : "";
    write(
      `\r${ESC}2K  ${cyan(SPINNER[frame++ % SPINNER.length] as string)} Waiting for approval${via}` +
        `  ${dim("·")}  code expires in ${urgent ? paint("33;1", left) : bold(left)}`,
    );
  };
  /** Ends the live line with `text` and gives the cursor back. */
  const finish = (text: string) => {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (live) write(`\r${ESC}2K${text}\n`);
    else write(`${text}\n`);
    if (live) restoreCursor();
    live = false;
  };

  return {
    async prompt(p: DevicePrompt, browserOpened: boolean) {
      expiresAt = p.expiresAt.getTime();
      const uri = printable(p.verificationUri);
      const code = printable(p.userCode);
      const lines = [
        "",
        `  ${bold("Sign in")} ${dim(`to ${printable(o.issuer)}`)}`,
        "",
        `  1. Open    ${cyan(paint("4", uri))}`,
        "  2. Enter the code",
        "",
        ...codeBox(code).map((l) => `     ${bold(l)}`),
        "",
      ];
      const complete = p.verificationUriComplete ? printable(p.verificationUriComplete) : undefined;
      // A QR code is a convenience: if it cannot be drawn, the code and the URI still are.
      const qr = complete ? await qrLines(complete, out).catch(() => []) : [];
      if (qr.length > 0) {
        lines.push(`  ${dim("Or scan this with your phone (the code is filled in):")}`, "");
        lines.push(...qr.map((l) => `  ${l}`), "");
      }
      if (browserOpened) lines.push(`  ${dim("Your browser was opened at the page.")}`, "");
      write(`${lines.join("\n")}\n`);
      // Hide the cursor only while the status line redraws itself.
      write(`${ESC}?25l`);
      live = true;
      status();
      timer = setInterval(status, TICK_MS);
    },
    waiting(h) {
      how = h;
    },
    success(t, cacheFile) {
      const until = new Date(t.expiresAt).toLocaleTimeString([], {
        hour: "2-digit",
        minute: "2-digit",
      });
      finish(
        `  ${paint("32;1", "✓")} ${bold("Signed in.")} The token is valid until ${until} and refreshes itself.\n` +
          `    ${dim(`Cached in ${cacheFile}`)}`,
      );
    },
    failure(error, message) {
      const text =
        error === "aborted"
          ? `  ${paint("33;1", "✗")} Cancelled.`
          : `  ${paint("31;1", "✗")} ${bold("Sign-in failed:")} ${printable(message || error)}`;
      finish(text);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (live) {
        write("\n");
        restoreCursor();
      }
      live = false;
    },
  };
}
