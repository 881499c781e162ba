/**
 * Prometheus metrics, one prom-client Registry per server (prom-client
 * formats the exposition and adds the process metrics). Label sets are
 * bounded by construction: route templates (never raw paths), procedure
 * names, outcome codes from closed unions. Children are bound once
 * (bound-instruments.ts), so a poll costs a counter increment and two
 * histogram observations. docs/operations.md lists every metric.
 */
import { collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type {
  FlowEvents,
  LimitKind,
  PollOutcome,
  SecurityEvent,
} from "../domain/ports/flow-events.js";
import {
  BoundCounter,
  BoundHistogram,
  type CounterChild,
  type HistogramChild,
} from "./bound-instruments.js";

/** Seconds; fine at the low end, where a poll or an EVALSHA lands. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const POLL_OUTCOMES: readonly PollOutcome[] = [
  "pending",
  "slow_down",
  "denied",
  "expired",
  "issued",
  "invalid_grant",
  "invalid_target",
];

/** Every instrument of one server, and the events-port adapter that drives the counters. */
export class HandoffMetrics {
  readonly registry = new Registry();
  private readonly c = counters(this.registry);
  private readonly pollChildren = new Map<PollOutcome, CounterChild>(
    POLL_OUTCOMES.map((o) => [o, this.c.polls.labels(o)]),
  );
  private readonly http = new BoundHistogram(
    "handoff_http_request_duration_seconds",
    "HTTP requests outside RPC, by route template, method and outcome (OAuth error code or status).",
    ["route", "method", "outcome"],
    LATENCY_BUCKETS,
    this.registry,
  );
  private readonly rpc = new BoundHistogram(
    "handoff_rpc_duration_seconds",
    "RPCs (Connect, gRPC, gRPC-Web), by procedure and outcome (ok, an OAuth error, or a Connect code).",
    ["procedure", "outcome"],
    LATENCY_BUCKETS,
    this.registry,
  );
  private readonly store = new BoundHistogram(
    "handoff_store_operation_duration_seconds",
    "State-store operations (one Redis round trip each on Redis), by backend, store and operation.",
    ["backend", "store", "operation"],
    LATENCY_BUCKETS,
    this.registry,
  );
  private readonly storeErrors = new BoundCounter(
    "handoff_store_errors_total",
    "State-store operations that failed (Redis down, timed out, or refused).",
    ["backend", "store", "operation"],
    this.registry,
  );
  private readonly replicationShortWrites = new BoundCounter(
    "handoff_redis_replication_short_total",
    "Durable writes refused (temporarily_unavailable) because fewer replicas than HANDOFF_REDIS_WAIT_REPLICAS held them (waited: WAIT timed out; skipped: the node's replicas were already short).",
    ["wait"],
    this.registry,
  );
  private readonly openStreams = new Gauge({
    name: "handoff_open_streams",
    help: "Long-lived RPC streams (WaitToken) open now.",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "handoff_" });
  }

  /** The text exposition format, and its content type. */
  async scrape(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  /** One HTTP request; `route` must be a route template or a fixed word. */
  observeHttp(route: string, method: string, outcome: string, seconds: number): void {
    this.http.labels(route, method, outcome).observe(seconds);
  }

  /** One RPC. */
  observeRpc(procedure: string, outcome: string, seconds: number): void {
    this.rpc.labels(procedure, outcome).observe(seconds);
  }

  /** The duration histogram of one store operation, bound once by the caller. */
  storeTimer(backend: string, store: string, operation: string): HistogramChild {
    return this.store.labels(backend, store, operation);
  }

  /** The failure counter of one store operation, bound once by the caller. */
  storeErrorCounter(backend: string, store: string, operation: string): CounterChild {
    return this.storeErrors.labels(backend, store, operation);
  }

  /** A durable write answered with fewer replicas than asked (docs/failure.md "Replication"). */
  replicationShort(skipped: boolean): void {
    this.replicationShortWrites.labels(skipped ? "skipped" : "waited").inc();
  }

  /** The events-port adapter: counters for every event, poll outcome, refusal and stream. */
  readonly events: FlowEvents = {
    record: (e) => this.count(e),
    polled: (o) => this.pollChildren.get(o)?.inc(),
    limited: (l: LimitKind) => this.c.limited.labels(l).inc(),
    streams: (d) => this.openStreams.inc(d),
  };

  private count(e: SecurityEvent): void {
    const c = this.c;
    if (e.event === "issued") c.issued.labels(e.grant).inc();
    else if (e.event === "refreshed") {
      c.issued.labels("refresh_token").inc();
      c.rotations.inc();
    } else if (e.event === "revoked") c.revocations.labels(e.tokenType, e.by).inc();
    else if (e.event === "client_changed") c.clientChanges.labels(e.change).inc();
    else this.plain[e.event].inc();
  }

  /** The counters without labels, by event. */
  private readonly plain = {
    authorized: this.c.authorizations,
    approved: this.c.approvals,
    denied: this.c.denials,
    phishing_reported: this.c.phishing,
    reuse_detected: this.c.reuse,
  } as const;
}

/** The counters the events port drives. */
function counters(registry: Registry) {
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new BoundCounter(name, help, labelNames, registry);
  return {
    authorizations: counter(
      "handoff_device_authorizations_total",
      "Device authorization requests that got codes (RFC 8628 §3.2).",
    ),
    polls: counter("handoff_polls_total", "Device-code polls by answer (RFC 8628 §3.5).", [
      "outcome",
    ]),
    approvals: counter("handoff_approvals_total", "Requests approved."),
    denials: counter("handoff_denials_total", "Requests denied (phishing reports included)."),
    phishing: counter(
      "handoff_phishing_reports_total",
      'Requests denied with "I didn\'t start this".',
    ),
    issued: counter("handoff_tokens_issued_total", "Access tokens issued, by grant.", ["grant"]),
    rotations: counter("handoff_refresh_rotations_total", "Refresh tokens rotated."),
    reuse: counter(
      "handoff_refresh_reuse_detected_total",
      "Rotated-out refresh tokens presented again (the family was revoked).",
    ),
    revocations: counter(
      "handoff_revocations_total",
      "Tokens revoked, by token type and by whom (client, service, subject).",
      ["token_type", "by"],
    ),
    limited: counter(
      "handoff_limit_refusals_total",
      "Attempts refused by a guess or authentication limit, by limit.",
      ["limit"],
    ),
    clientChanges: counter("handoff_client_changes_total", "Client administration changes.", [
      "change",
    ]),
  };
}
