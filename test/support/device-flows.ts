/**
 * Device flows driven the way real devices and approvers drive them, for the
 * fault tests (docs/failure.md): a device authorizes, polls at its
 * interval (RFC 8628 §3.4, §3.5) and retries a 503 once its Retry-After
 * has passed (RFC 9110 §10.2.3); an approver decides through the Approve RPC
 * or the verification page and tries again at once. Every answer is
 * recorded with its duration, so a test can say that each one was an answer
 * the contract allows and came within the store deadline plus a margin, and
 * every flow ends in an outcome the test can account for.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Decision, DeviceAuthService } from "../../gen/handoff/v1/device_auth_pb.js";
import { TokenService } from "../../gen/handoff/v1/token_service_pb.js";
import { ALICE, FormClient } from "../pages/page-fixtures.js";
import { DEVICE_GRANT, SERVICE_TOKEN, sleep } from "./handoff-server.js";
import { bearer } from "./rpc-clients.js";

/** One answer a flow got: which step, from which instance, how long it took, what it said. */
export interface Answer {
  readonly step: string;
  readonly base: string;
  /** When the request was sent (Date.now()). */
  readonly at: number;
  readonly ms: number;
  /**
   * `token`, an RFC 6749/8628 error code, `ok`, `unavailable` (503 with
   * Retry-After, or RPC UNAVAILABLE), `unreachable` (no HTTP answer at all:
   * the instance was down), `already_decided`, `not_found`; anything else is
   * the status and body, which no test expects.
   */
  readonly outcome: string;
}

export type Plan = "approve" | "deny" | "abandon";

/** How one flow ended. */
export interface FlowRecord {
  readonly id: number;
  readonly plan: Plan;
  readonly via: "rpc" | "page";
  deviceCode?: string;
  /** Each answer of this flow, `step outcome ms`, in order: what a failure report shows. */
  readonly steps: string[];
  /** Every access token a token response carried for this device code. */
  readonly tokenSets: Array<{ accessToken: string; refreshToken?: string }>;
  /** The poll answer that ended the flow (token, access_denied, expired_token, …) or `gave_up`. */
  terminal?: string;
  /** The decision step's final answer (ok, already_decided after a retry, not_found …). */
  decided?: string;
  /** After the tokens: the refresh's final answer, and whether an earlier try went unanswered. */
  refreshed?: { outcome: string; afterLostAnswer: boolean };
  /** The access token whose grant was revoked (its introspection must say inactive ever after). */
  revokedAccessToken?: string;
}

/** What a flow does once it has its token set (the soak): refresh once, then revoke the grant. */
export interface AfterTokens {
  readonly via: "rpc" | "http";
}

export interface FlowOptions {
  /** The instances; a flow spreads its steps over them. */
  readonly bases: () => readonly string[];
  /** The least wait before retrying a step that got a 503 (a device waits its Retry-After too). */
  readonly retryMs: number;
  /** A flow still unfinished after this gives up (its terminal is `gave_up`). */
  readonly flowTimeoutMs: number;
  /** Delay between authorization and decision. */
  readonly decideAfterMs?: number;
  readonly clientId?: string;
  /** Its secret, for a confidential client (sent in the form, RFC 6749 §2.3.1). */
  readonly clientSecret?: string;
  /** Who signs in on the verification page (ALICE unless given). */
  readonly pageUser?: { username: string; password: string };
}

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** One step's answer; `retryAfterMs` is a 503's Retry-After (RFC 9110 §10.2.3). */
type Step<T> = { outcome: string; value?: T; retryAfterMs?: number };

/** The contract's outage answer: 503 with a numeric Retry-After. */
async function classify(
  res: Response,
): Promise<{ outcome: string; body: unknown; retryAfterMs?: number }> {
  const text = await res.text();
  const retryAfter = res.headers.get("retry-after") ?? "";
  if (res.status === 503 && /^\d+$/.test(retryAfter)) {
    return { outcome: "unavailable", body: text, retryAfterMs: Number(retryAfter) * 1000 };
  }
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // a page, or garbage: reported below with its status
  }
  if (res.status === 200 && typeof body.access_token === "string")
    return { outcome: "token", body };
  if (res.status === 200) return { outcome: "ok", body };
  if (res.status === 400 && typeof body.error === "string") return { outcome: body.error, body };
  return { outcome: `${res.status} ${text.slice(0, 160)}`, body };
}

/** fetch threw: no HTTP answer (connection refused or reset). */
function unreachable(e: unknown): boolean {
  return e instanceof TypeError && /fetch failed/.test(e.message);
}

function rpcOutcome(e: unknown): string {
  const ce = ConnectError.from(e);
  // No answer at all (connect-node says Unavailable, or Aborted for a kept-alive
  // connection an instance closed as it stopped): the instance was down.
  if (
    (ce.code === Code.Unavailable || ce.code === Code.Aborted) &&
    /ECONNREFUSED|ECONNRESET|socket hang up/.test(ce.rawMessage)
  ) {
    return "unreachable";
  }
  if (ce.code === Code.Unavailable) return "unavailable";
  if (ce.code === Code.FailedPrecondition) return "already_decided";
  if (ce.code === Code.NotFound) return "not_found";
  return `${Code[ce.code]} ${ce.rawMessage}`;
}

/** Drives flows and records every answer; one per test. */
export class FlowDriver {
  readonly answers: Answer[] = [];
  readonly flows: FlowRecord[] = [];
  private readonly pages = new Map<string, Promise<FormClient>>();
  private turn = 0;
  /** The flow whose steps are running, so each answer lands in its record too. */
  private readonly flow = new AsyncLocalStorage<FlowRecord>();

  constructor(private readonly o: FlowOptions) {}

  private client(): Record<string, string> {
    const id = { client_id: this.o.clientId ?? "public-cli" };
    return this.o.clientSecret ? { ...id, client_secret: this.o.clientSecret } : id;
  }

  /** A different instance for each step, round robin. */
  private next(): string {
    const bases = this.o.bases();
    return bases[this.turn++ % bases.length] as string;
  }

  private async timed<T>(
    step: string,
    base: string,
    call: () => Promise<Step<T>>,
  ): Promise<Step<T>> {
    const at = Date.now();
    const started = performance.now();
    const r = await call().catch((e: Error) => ({
      outcome: unreachable(e) ? "unreachable" : `threw ${e.message}`,
    }));
    const ms = Math.round(performance.now() - started);
    this.answers.push({ step, base, at, ms, outcome: r.outcome });
    this.flow.getStore()?.steps.push(`${step} ${r.outcome} ${ms}ms @${at % 100_000}`);
    return r;
  }

  /** Repeats `attempt` on new instances while it answers `unavailable`, until the flow's deadline. */
  private async retrying<T>(
    until: number,
    attempt: () => Promise<Step<T>>,
    /** A client honours Retry-After; a person or a service clicking again need not. */
    honourRetryAfter = true,
  ): Promise<Step<T> & { retried: boolean }> {
    let retried = false;
    for (;;) {
      const r = await attempt();
      const again = r.outcome === "unavailable" || r.outcome === "unreachable";
      if (!again || Date.now() > until) return { ...r, retried };
      retried = true;
      await sleep(Math.max(this.o.retryMs, honourRetryAfter ? (r.retryAfterMs ?? 0) : 0));
    }
  }

  authorize(base: string) {
    return this.timed<{ device_code: string; user_code: string; interval: number }>(
      "authorize",
      base,
      async () => {
        const res = await fetch(`${base}/oauth/device/authorize`, form(this.client()));
        const { outcome, body, retryAfterMs } = await classify(res);
        return outcome === "ok"
          ? { outcome, value: body as { device_code: string; user_code: string; interval: number } }
          : { outcome, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      },
    );
  }

  poll(base: string, deviceCode: string, step = "poll") {
    return this.timed<{ access_token: string; refresh_token?: string; interval?: number }>(
      step,
      base,
      async () => {
        const res = await fetch(
          `${base}/oauth/token`,
          form({ grant_type: DEVICE_GRANT, device_code: deviceCode, ...this.client() }),
        );
        const { outcome, body, retryAfterMs } = await classify(res);
        return {
          outcome,
          value: body as { access_token: string; refresh_token?: string },
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      },
    );
  }

  private decideByRpc(base: string, userCode: string, approve: boolean) {
    return this.timed("decide rpc", base, async () => {
      const rpc = createClient(
        DeviceAuthService,
        createConnectTransport({
          baseUrl: base,
          httpVersion: "1.1",
          interceptors: [bearer(SERVICE_TOKEN)],
        }),
      );
      try {
        await rpc.approve({
          userCode,
          subject: ALICE.username,
          decision: approve ? Decision.APPROVE : Decision.DENY,
        });
        return { outcome: "ok" };
      } catch (e) {
        return { outcome: rpcOutcome(e) };
      }
    });
  }

  /** A signed-in page session per instance (signing in again after a 503). */
  private page(base: string): Promise<FormClient> {
    let p = this.pages.get(base);
    if (!p) {
      p = (async () => {
        const c = new FormClient(base);
        await c.signIn(this.o.pageUser ?? ALICE);
        return c;
      })();
      p.catch(() => this.pages.delete(base));
      this.pages.set(base, p);
    }
    return p;
  }

  private decideByPage(base: string, userCode: string, approve: boolean) {
    return this.timed("decide page", base, async () => {
      let c: FormClient;
      try {
        c = await this.page(base);
      } catch {
        return { outcome: "unavailable" }; // the sign-in met the outage; the next try signs in again
      }
      const page = await c.get("/device");
      await page.text();
      if (page.status === 503) return { outcome: "unavailable" };
      if (page.status !== 200) {
        this.pages.delete(base); // signed out (the session was lost): sign in again
        return { outcome: "unavailable" };
      }
      const res = await c.post("/device/decision", {
        _csrf: c.csrf(),
        user_code: userCode,
        decision: approve ? "approve" : "deny",
      });
      await res.text();
      if (res.status === 200) return { outcome: "ok" };
      if (res.status === 409) return { outcome: "already_decided" };
      if (res.status === 410) return { outcome: "not_found" };
      if (res.status === 503) return { outcome: "unavailable" };
      if (res.status === 303) {
        this.pages.delete(base); // the session was lost: sign in again
        return { outcome: "unavailable" };
      }
      return { outcome: `${res.status} page` };
    });
  }

  /**
   * One device: authorize, then (unless abandoned) a decision, and polls at
   * the interval until the flow ends. The poll after a 503 waits at least
   * the interval, as the next poll would (RFC 8628 §3.5).
   */
  async run(plan: Plan, via: "rpc" | "page" = "rpc", after?: AfterTokens): Promise<FlowRecord> {
    const record: FlowRecord = { id: this.flows.length, plan, via, steps: [], tokenSets: [] };
    this.flows.push(record);
    return this.flow.run(record, async () => {
      await this.drive(record);
      const set = record.tokenSets[0];
      if (after && set?.refreshToken) await this.refreshThenRevoke(record, set, after.via);
      return record;
    });
  }

  /**
   * Refreshes once (RFC 6749 §6), then revokes the grant with the new refresh
   * token (RFC 7009 §2.1: the family and its access tokens). A refresh tried
   * again after an unanswered try may meet reuse detection (the rotation
   * happened, its answer was lost): recorded as such, never a second family.
   */
  private async refreshThenRevoke(
    record: FlowRecord,
    set: { accessToken: string; refreshToken?: string },
    via: "rpc" | "http",
  ): Promise<void> {
    const until = Date.now() + this.o.flowTimeoutMs;
    const r = await this.retrying(until, () =>
      this.refresh(this.next(), set.refreshToken ?? "", via),
    );
    record.refreshed = { outcome: r.outcome, afterLostAnswer: r.retried };
    if (r.outcome !== "token" || !r.value) {
      // Reuse detection revoked the family: the first access token is dead too.
      if (r.outcome === "invalid_grant") record.revokedAccessToken = set.accessToken;
      return;
    }
    const next = r.value;
    const v = await this.retrying(until, () => this.revoke(this.next(), next.refreshToken, via));
    if (v.outcome === "ok") record.revokedAccessToken = next.accessToken;
  }

  refresh(base: string, refreshToken: string, via: "rpc" | "http") {
    return this.timed<{ accessToken: string; refreshToken: string }>(
      `refresh ${via}`,
      base,
      async () => {
        if (via === "rpc") {
          try {
            const t = await this.tokens(base).refresh({
              clientId: this.o.clientId ?? "public-cli",
              refreshToken,
            });
            return { outcome: "token", value: t };
          } catch (e) {
            return { outcome: rpcOutcome(e) };
          }
        }
        const res = await fetch(
          `${base}/oauth/token`,
          form({ grant_type: "refresh_token", refresh_token: refreshToken, ...this.client() }),
        );
        const { outcome, body, retryAfterMs } = await classify(res);
        const b = body as { access_token: string; refresh_token: string };
        return {
          outcome,
          value: { accessToken: b.access_token, refreshToken: b.refresh_token },
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
      },
    );
  }

  revoke(base: string, token: string, via: "rpc" | "http") {
    return this.timed(`revoke ${via}`, base, async () => {
      if (via === "rpc") {
        try {
          await this.tokens(base).revoke({ clientId: this.o.clientId ?? "public-cli", token });
          return { outcome: "ok" };
        } catch (e) {
          return { outcome: rpcOutcome(e) };
        }
      }
      const res = await fetch(`${base}/oauth/revoke`, form({ token, ...this.client() }));
      const { outcome, retryAfterMs } = await classify(res);
      return { outcome, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    });
  }

  /** RFC 7662 introspection with the service credential: `active` or `inactive`. */
  introspect(base: string, token: string) {
    return this.timed("introspect", base, async () => {
      const res = await fetch(
        `${base}/oauth/introspect`,
        form({ token }, { authorization: `Bearer ${SERVICE_TOKEN}` }),
      );
      const { outcome, body } = await classify(res);
      if (outcome !== "ok") return { outcome };
      return { outcome: (body as { active?: boolean }).active ? "active" : "inactive" };
    });
  }

  private async drive(record: FlowRecord): Promise<FlowRecord> {
    const { plan, via } = record;
    const until = Date.now() + this.o.flowTimeoutMs;
    const started = await this.retrying(until, () => this.authorize(this.next()));
    if (!started.value) {
      record.terminal = started.outcome === "unavailable" ? "gave_up" : started.outcome;
      return record;
    }
    const { device_code, user_code } = started.value;
    let interval = started.value.interval * 1000;
    record.deviceCode = device_code;
    const decision =
      plan === "abandon"
        ? Promise.resolve()
        : (async () => {
            await sleep(this.o.decideAfterMs ?? 0);
            const approve = plan === "approve";
            const d = await this.retrying(
              until,
              () =>
                via === "rpc"
                  ? this.decideByRpc(this.next(), user_code, approve)
                  : this.decideByPage(this.next(), user_code, approve),
              false,
            );
            // Retried after a 503 whose write took effect: the retry sees it decided.
            record.decided = d.outcome === "already_decided" && d.retried ? "ok" : d.outcome;
          })();
    for (;;) {
      await sleep(interval);
      if (Date.now() > until) {
        record.terminal = "gave_up";
        break;
      }
      const r = await this.poll(this.next(), device_code);
      if (r.outcome === "unavailable") {
        // Retry-After (RFC 9110 §10.2.3), on top of the interval, as a careful client waits.
        await sleep(Math.max(0, (r.retryAfterMs ?? 0) - interval));
        continue;
      }
      if (["authorization_pending", "unreachable"].includes(r.outcome)) continue;
      if (r.outcome === "slow_down") {
        interval += 5000; // RFC 8628 §3.5
        continue;
      }
      if (r.outcome === "token" && r.value) {
        record.tokenSets.push({
          accessToken: r.value.access_token,
          ...(r.value.refresh_token ? { refreshToken: r.value.refresh_token } : {}),
        });
      }
      record.terminal = r.outcome;
      break;
    }
    await decision;
    return record;
  }

  /**
   * Polls an ended flow's device code once more; a second, distinct token
   * set would be counted. The same set again ("same set": the same `jti`)
   * is what a poll inside the retry window gets when the confirmation of
   * the first delivery was lost in the fault (docs/failure.md "Exactly once
   * across faults": confirming is best effort); it is no second set.
   */
  async repoll(record: FlowRecord): Promise<string> {
    if (!record.deviceCode) return "none";
    const r = await this.flow.run(record, () =>
      this.poll(this.next(), record.deviceCode as string, "poll again"),
    );
    if (r.outcome === "token" && r.value) {
      const first = record.tokenSets[0]?.accessToken;
      if (first !== undefined && jtiOf(first) === jtiOf(r.value.access_token)) return "same set";
      record.tokenSets.push({ accessToken: r.value.access_token });
    }
    return r.outcome;
  }

  /** A TokenService client on one instance. */
  tokens(base: string) {
    return createClient(
      TokenService,
      createConnectTransport({
        baseUrl: base,
        httpVersion: "1.1",
        interceptors: [bearer(SERVICE_TOKEN)],
      }),
    );
  }
}

/** Counts of a list of words, for the tally. */
export function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort());
}

/** Percentile of durations (ms). */
export function percentile(ms: readonly number[], p: number): number {
  if (ms.length === 0) return 0;
  const sorted = [...ms].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** An access token's `jti` (RFC 9068 §2.2), read without verifying: the test compares sets. */
function jtiOf(jwt: string): string | undefined {
  const payload = jwt.split(".")[1] ?? "";
  return (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { jti?: string }).jti;
}
