/**
 * The stores' Lua scripts, run by EVALSHA and re-sent by EVAL when the
 * server answers NOSCRIPT (a restarted or failed-over Redis, SCRIPT FLUSH),
 * as ioredis's `defineCommand` does, without that command's cost.
 *
 * ioredis copies every command defined with `defineCommand` onto each
 * pipeline it builds, and auto-pipelining builds one per batch of commands
 * (one per event-loop turn that sends any). With the stores' ~70 scripts a
 * pipeline cost ~37 µs to build, against ~4 µs with none: several µs of every
 * poll and device authorization (docs/architecture.md "Redis"). EVALSHA is a
 * built-in command, so a pipeline copies nothing for it; and a script needs
 * no defining before traffic, so no command can be missing from a pipeline
 * built before it was defined.
 */
import { createHash } from "node:crypto";
import { type Cluster, Command, Redis } from "ioredis";

export type ScriptArg = string | number;

/**
 * Redis names the kind of an error reply by its first word (RESP, "Simple
 * errors"): NOSCRIPT is EVALSHA's "no script with this digest".
 */
const isNoScript = (e: unknown): boolean => e instanceof Error && e.message.startsWith("NOSCRIPT");

/**
 * The command `name` with `argv`, arguments that are already flat. ioredis's
 * `Command` constructor copies its arguments with `Array.prototype.flat`,
 * which on Node 20 costs ~70 ns per argument (1.9 µs for the 26 of a device
 * authorization's CREATE_CHARGED, measured): more than the rest of building
 * the command. Built with no arguments, then given ours as strings (what its
 * `stringifyArguments` makes of numbers), it is the same command: the
 * constructor does nothing else with them when the client has no
 * `keyPrefix` (the stores prefix their keys themselves) and the command has
 * no argument transformer (EVALSHA and EVAL have none). A plain function,
 * not a subclass: a derived constructor measured several times slower.
 */
function flatCommand(name: string, argv: ScriptArg[]): Command {
  for (let i = 0; i < argv.length; i++) argv[i] = String(argv[i]);
  const command = new Command(name, [], { replyEncoding: "utf8" });
  command.args = argv as string[];
  return command;
}

/**
 * Sends `name` with `argv` as ioredis's generated command method would: by
 * `sendCommand` on a client that sends each command as it comes (one Redis,
 * src/store/redis-connection.ts `writesPerTurn`), else through the method,
 * which is where ioredis auto-pipelines (a Cluster).
 */
function send(
  client: Redis | Cluster,
  name: "evalsha" | "eval",
  argv: ScriptArg[],
): Promise<unknown> {
  if (
    client instanceof Redis &&
    !client.options.enableAutoPipelining &&
    !client.options.keyPrefix
  ) {
    const command = flatCommand(name, argv);
    client.sendCommand(command);
    return command.promise;
  }
  return client[name](...(argv as [string, number, ...ScriptArg[]]));
}

/** One Lua script, known to Redis by its SHA-1 digest. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  /**
   * Runs the script on `client` with `keys` keys, given first in `args`
   * (Redis and ioredis's Cluster routing read them from there). NOSCRIPT
   * ran nothing, so sending the script itself in its place is safe.
   */
  run(client: Redis | Cluster, keys: number, args: readonly ScriptArg[]): Promise<unknown> {
    return send(client, "evalsha", [this.sha, keys, ...args]).catch((e: unknown) =>
      isNoScript(e) ? send(client, "eval", [this.lua, keys, ...args]) : Promise.reject(e),
    );
  }
}

/** A script with its fixed number of keys, as ioredis's `defineCommand` takes it. */
export interface ScriptDefinition {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/** A script bound to a client: its keys, then its arguments. */
export type ScriptCommand = (...keysThenArgs: ScriptArg[]) => Promise<unknown>;

/** Each definition as a command on `client` (the shape `defineCommand` gave, as plain functions). */
export function scriptCommands<const T extends Readonly<Record<string, ScriptDefinition>>>(
  client: Redis | Cluster,
  definitions: T,
): { readonly [K in keyof T]: ScriptCommand } {
  const commands: Record<string, ScriptCommand> = {};
  for (const [name, { numberOfKeys, lua }] of Object.entries(definitions)) {
    const script = new LuaScript(lua);
    commands[name] = (...args) => script.run(client, numberOfKeys, args);
  }
  return commands as { readonly [K in keyof T]: ScriptCommand };
}
