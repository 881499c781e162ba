/**
 * The audit-log adapter of the events port: one pino line at info per
 * security event (docs/operations.md), `msg: "audit"` and `event: <kind>`.
 * Poll outcomes, limit refusals and streams are counted only, never logged
 * here (the access log already has a line per request).
 */
import type { Logger } from "pino";
import type { FlowEvents, SecurityEvent } from "../domain/ports/flow-events.js";

/** The log fields of one event: snake_case like the access log; never a secret. */
function fieldsOf(e: SecurityEvent): Record<string, string | undefined> {
  switch (e.event) {
    case "authorized":
      return { client_id: e.clientId, ip: e.ipAddress, user_agent: e.userAgent.slice(0, 200) };
    case "approved":
    case "denied":
      return {
        client_id: e.clientId,
        subject: e.subject,
        ip: e.approverAddress,
        requester_ip: e.requesterAddress,
      };
    case "phishing_reported":
      return {
        client_id: e.clientId,
        subject: e.subject,
        ip: e.approverAddress,
        requester_ip: e.requesterAddress,
        requester_user_agent: e.userAgent.slice(0, 200),
      };
    case "issued":
      return { client_id: e.clientId, subject: e.subject, grant: e.grant };
    case "refreshed":
      return { client_id: e.clientId, subject: e.subject };
    case "reuse_detected":
      return { client_id: e.clientId };
    case "revoked":
      return { client_id: e.clientId, subject: e.subject, token_type: e.tokenType, by: e.by };
    case "client_changed":
      return { client_id: e.clientId, change: e.change };
  }
}

/** Writes each security event as one structured info line. */
export function auditLog(logger: Logger): FlowEvents {
  return {
    record(e) {
      logger.info({ event: e.event, ...fieldsOf(e) }, "audit");
    },
    polled() {},
    limited() {},
    streams() {},
  };
}

/** Sends every event to each sink in turn. */
export function fanOut(...sinks: readonly FlowEvents[]): FlowEvents {
  return {
    record: (e) => {
      for (const s of sinks) s.record(e);
    },
    polled: (o) => {
      for (const s of sinks) s.polled(o);
    },
    limited: (l) => {
      for (const s of sinks) s.limited(l);
    },
    streams: (d) => {
      for (const s of sinks) s.streams(d);
    },
  };
}
