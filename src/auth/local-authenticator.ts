/** Sign-in with a user name and password from the local users file. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { hashScrypt, verifyScrypt } from "../domain/secret-hash.js";
import { endWarned } from "./attempt-limits.js";
import type { Authenticator, SignInContext } from "./authenticator.js";
import type { LocalUser } from "./users-file.js";

/**
 * The password form at `ctx.path`. Every post is charged to the sign-in
 * counters before the password is checked and refunded when it was right;
 * an unknown user costs the same scrypt as a known one, so timing does not
 * tell which user names exist.
 */
export class LocalAuthenticator implements Authenticator {
  readonly kind = "local";
  private readonly users: ReadonlyMap<string, string>;
  private dummyHash: Promise<string> | undefined;

  constructor(users: readonly LocalUser[]) {
    this.users = new Map(users.map((u) => [u.username, u.passwordHash]));
  }

  subjectOf(): undefined {
    return undefined;
  }

  /** The subject for a right user name and password, else undefined. */
  async check(username: string, password: string): Promise<string | undefined> {
    const stored = this.users.get(username);
    if (stored === undefined) {
      this.dummyHash ??= hashScrypt(randomBytes(16).toString("hex"));
      await verifyScrypt(password, await this.dummyHash);
      return undefined;
    }
    return (await verifyScrypt(password, stored)) ? username : undefined;
  }

  register(app: FastifyInstance, ctx: SignInContext): void {
    app.get(ctx.path, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const returnTo = ctx.safeReturnTo(
        typeof query.return_to === "string" ? query.return_to : undefined,
      );
      if (await ctx.sessions.current(request)) return reply.redirect(returnTo, 303);
      return ctx.sendPage(reply, 200, {
        kind: "password-form",
        csrfToken: ctx.csrfToken(reply),
        returnTo,
      });
    });

    app.post(ctx.path, { preHandler: ctx.csrf }, async (request, reply) => {
      const form = ctx.formOf(request);
      const returnTo = ctx.safeReturnTo(form.get("return_to"));
      const username = (form.get("username") ?? "").trim();
      const password = form.get("password") ?? "";
      const again = (status: number, error: string) =>
        ctx.sendPage(reply, status, {
          kind: "password-form",
          csrfToken: ctx.csrfToken(reply),
          returnTo,
          username: username.slice(0, 64),
          error,
        });
      if (username === "" || password === "") {
        return again(400, "Enter your user name and password.");
      }
      const slots = ctx.limiter.signInSlots(request.ip, username);
      // Charged only if the password is wrong (docs/verification-page.md "Limits on guessing").
      const check = await ctx.limiter.check(slots, ctx.limiter.limits.pageCheckLeaseMs);
      if (!check.allowed) {
        reply.header("retry-after", Math.ceil(check.retryAfterMs / 1000));
        request.log.warn(
          { reqId: request.id, limit: "sign-in", ip: request.ip },
          "sign-in attempts limited",
        );
        return again(429, tooManyMessage(check.retryAfterMs));
      }
      const end = endWarned(
        check,
        request.log,
        { reqId: request.id, limit: "sign-in", ip: request.ip },
        "sign-in",
      );
      let subject: string | undefined;
      try {
        subject = await this.check(username, password.slice(0, 1024));
      } catch (e) {
        void end(false);
        throw e;
      }
      if (subject === undefined) {
        await end(true);
        return again(401, "That user name and password don't match.");
      }
      void end(false);
      await ctx.sessions.start(request, reply, subject);
      return reply.redirect(returnTo, 303);
    });
  }
}

/** "Too many attempts" with the wait in words a person can act on. */
export function tooManyMessage(retryAfterMs: number): string {
  const s = Math.ceil(retryAfterMs / 1000);
  const wait = s < 90 ? `${s} second${s === 1 ? "" : "s"}` : `${Math.ceil(s / 60)} minutes`;
  return `Too many attempts. Wait ${wait}, then try again.`;
}
