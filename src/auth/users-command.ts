/** `handoff users add <name> [--file <path>]`: adds or updates a local user in the users file. */
import { createInterface } from "node:readline";
import { hashScrypt } from "../domain/secret-hash.js";
import { USERNAME, upsertUser } from "./users-file.js";

/** Minimum length for passwords set through the command (the dev seed `demo` is not set this way). */
const MIN_PASSWORD = 8;

/** Reads a password: from a pipe as is, or from a terminal without echoing it. */
async function readPassword(input: NodeJS.ReadStream, prompt: NodeJS.WriteStream): Promise<string> {
  if (!input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of input) chunks.push(c as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  prompt.write("Password: ");
  const rl = createInterface({ input, terminal: true });
  // Echo nothing while the password is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
  const line = await new Promise<string>((resolve) => rl.once("line", resolve));
  rl.close();
  prompt.write("\n");
  return line;
}

/** Runs `users add`; returns the message to print. Throws an Error whose message is for the user. */
export async function usersAdd(
  args: readonly string[],
  env: Record<string, string | undefined>,
  io: { stdin: NodeJS.ReadStream; stderr: NodeJS.WriteStream } = {
    stdin: process.stdin,
    stderr: process.stderr,
  },
): Promise<string> {
  const fileFlag = args.indexOf("--file");
  const file = fileFlag === -1 ? env.HANDOFF_USERS_FILE : args[fileFlag + 1];
  const username = args.find(
    (a, i) => !a.startsWith("--") && (fileFlag === -1 || i !== fileFlag + 1),
  );
  if (!username || !USERNAME.test(username)) {
    throw new Error("users add: give a user name of 1 to 64 letters, digits or . _ @ + -");
  }
  if (!file) throw new Error("users add: set HANDOFF_USERS_FILE or pass --file <path>");
  const password = await readPassword(io.stdin, io.stderr);
  if (password.length < MIN_PASSWORD) {
    throw new Error(`users add: the password must have at least ${MIN_PASSWORD} characters`);
  }
  const outcome = await upsertUser(file, { username, passwordHash: await hashScrypt(password) });
  return `${outcome} ${username} in ${file}\n`;
}
