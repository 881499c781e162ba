/**
 * Makes docs/login.png, the README's picture of `handoff login`: a real
 * handoff server (the test helper, memory store), the real command in a
 * 100×36 tmux pane, the pane captured with its colours (`capture-pane -e`,
 * and `-N` for the QR code's white right margin),
 * turned into HTML and photographed by Chromium (playwright-core,
 * /usr/bin/chromium). Run: node --import tsx scripts/login-screenshot.ts
 */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";
import { startTestServer } from "../test/support/handoff-server.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const out = join(root, "docs", "login.png");
const WIDTH = 100;
const HEIGHT = 36;

/** xterm's 16 colours, as a dark theme shows them. */
const PALETTE = [
  "#1e1e1e",
  "#e06c75",
  "#98c379",
  "#e5c07b",
  "#61afef",
  "#c678dd",
  "#56b6c2",
  "#dcdfe4",
  "#5c6370",
  "#e06c75",
  "#98c379",
  "#e5c07b",
  "#61afef",
  "#c678dd",
  "#56b6c2",
  "#ffffff",
];
const FG = "#dcdfe4";
const BG = "#1e1e1e";

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** SGR-coloured text (what tmux captures) to HTML spans. */
export function ansiToHtml(text: string): string {
  let fg: string | undefined;
  let bg: string | undefined;
  let bold = false;
  let dim = false;
  let underline = false;
  let html = "";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: SGR sequences start with ESC.
  for (const part of text.split(/(\u001b\[[0-9;]*m)/)) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: as above.
    const sgr = /^\u001b\[([0-9;]*)m$/.exec(part);
    if (!sgr) {
      if (part === "") continue;
      const style = [
        `color:${fg ?? FG}`,
        bg ? `background:${bg}` : "",
        bold ? "font-weight:bold" : "",
        dim ? "opacity:0.6" : "",
        underline ? "text-decoration:underline" : "",
      ]
        .filter(Boolean)
        .join(";");
      html += `<span style="${style}">${escapeHtml(part)}</span>`;
      continue;
    }
    const codes = (sgr[1] || "0").split(";").map(Number);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i] as number;
      if (c === 0) [fg, bg, bold, dim, underline] = [undefined, undefined, false, false, false];
      else if (c === 1) bold = true;
      else if (c === 2) dim = true;
      else if (c === 22) [bold, dim] = [false, false];
      else if (c === 4) underline = true;
      else if (c === 24) underline = false;
      else if (c >= 30 && c <= 37) fg = PALETTE[c - 30];
      else if (c >= 90 && c <= 97) fg = PALETTE[c - 90 + 8];
      else if (c === 39) fg = undefined;
      else if (c >= 40 && c <= 47) bg = PALETTE[c - 40];
      else if (c >= 100 && c <= 107) bg = PALETTE[c - 100 + 8];
      else if (c === 49) bg = undefined;
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
        const n = codes[i + 2] ?? 0;
        const colour = n < 16 ? PALETTE[n] : undefined;
        if (c === 38) fg = colour;
        else bg = colour;
        i += 2;
      }
    }
  }
  return html;
}

function page(screen: string): string {
  return `<!doctype html><meta charset="utf-8"><style>
  body { margin: 0; padding: 24px; background: #f3f4f6; display: inline-block; }
  .window { border-radius: 10px; overflow: hidden; box-shadow: 0 10px 30px rgba(0,0,0,.25); background: ${BG}; }
  .bar { height: 30px; background: #2d2d2d; display: flex; align-items: center; padding: 0 12px; gap: 8px;
         font: 13px sans-serif; color: #9ca3af; }
  .dot { width: 12px; height: 12px; border-radius: 50%; }
  pre { margin: 0; padding: 14px 18px; font: 15px/1.0 "DejaVu Sans Mono", monospace; color: ${FG}; }
  </style><div class="window"><div class="bar"><span class="dot" style="background:#ff5f56"></span>
  <span class="dot" style="background:#ffbd2e"></span><span class="dot" style="background:#27c93f"></span>
  <span style="margin-left:12px">~ — handoff login</span></div><pre>${screen}</pre></div>`;
}

/** On 8080, as in the README's tour, unless that port is taken. */
async function startServer() {
  const base = { deviceCodeTtl: 900, pollInterval: 5 };
  try {
    return await startTestServer({ ...base, port: 8080, issuer: "http://localhost:8080" });
  } catch {
    return startTestServer(base);
  }
}

const server = await startServer();
const socket = `handoff-shot-${process.pid}`;
const tmux = (...args: string[]) => run("tmux", ["-L", socket, "-f", "/dev/null", ...args]);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});
try {
  const home = mkdtempSync(join(tmpdir(), "handoff-shot-"));
  const env = `env -i PATH='${process.env.PATH}' HOME='${home}' XDG_CONFIG_HOME='${home}/config' TERM=xterm-256color`;
  const command = `${env} '${process.execPath}' --import tsx src/cli/main.ts login --issuer ${server.issuer} --client-id public-cli --no-browser; sleep 600`;
  await tmux("new-session", "-d", "-x", String(WIDTH), "-y", String(HEIGHT), "-c", root, command);
  let screen = "";
  for (let i = 0; i < 200 && !/expires in 14:5\d/.test(screen); i++) {
    await new Promise((r) => setTimeout(r, 100));
    screen = (await tmux("capture-pane", "-p")).stdout;
  }
  const coloured = (await tmux("capture-pane", "-p", "-e", "-N")).stdout.replace(/\n+$/, "\n");
  const tab = await browser.newPage({ deviceScaleFactor: 2 });
  await tab.setContent(page(ansiToHtml(coloured)));
  await tab.locator(".window").screenshot({ path: out });
  process.stdout.write(`wrote ${out}\n`);
} finally {
  await tmux("kill-server").catch(() => {});
  await browser.close();
  await server.close();
}
