/**
 * Opening the verification page in the person's browser, only where one can
 * open on the screen in front of them: never over SSH (the browser would open
 * on the remote machine), never on Linux without a display.
 */
import { spawn } from "node:child_process";

/** Whether a browser started here would show up in front of the person. */
export function canOpenBrowser(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (env.SSH_CONNECTION || env.SSH_TTY || env.SSH_CLIENT) return false;
  if (platform === "darwin" || platform === "win32") return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** The platform's opener for a URL, with no shell in between (except Windows' `start`, a cmd built-in). */
function opener(url: string, platform: NodeJS.Platform): [string, string[]] {
  if (platform === "darwin") return ["open", [url]];
  if (platform === "win32") return ["cmd", ["/c", "start", '""', `"${url}"`]];
  return ["xdg-open", [url]];
}

/**
 * Starts the browser on `url` (http and https only: the URL comes from the
 * server). Resolves true once the opener started, false when there is none.
 */
export function openBrowser(
  url: string,
  platform: NodeJS.Platform = process.platform,
): Promise<boolean> {
  const protocol = URL.canParse(url) ? new URL(url).protocol : "";
  if (protocol !== "https:" && protocol !== "http:") return Promise.resolve(false);
  const [command, args] = opener(url, platform);
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      detached: true,
      stdio: "ignore",
      windowsVerbatimArguments: platform === "win32",
    });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
}
