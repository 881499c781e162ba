/**
 * Operators' view of authorizations (README "Operator listings"): approved
 * grants listed by client or by subject and revoked by family id, pending
 * requests listed by client and cancelled by an opaque id. Callers are
 * already authorised by the admin credential; the transports only translate.
 *
 * Ids shown are short and non-secret. A grant is its refresh family id (the
 * family's public name, the first part of its refresh tokens, never a
 * secret). A pending request is its `pendingId`: the device-code handle the
 * store keys it by, sealed (./pending-id.ts: the handle's routing tag is a
 * hash of the user code, whose ~40 bits a hash cannot hide); a poll needs
 * the device code itself (RFC 8628 §3.4), never its handle.
 *
 * A cancellation is a denial (RFC 8628 §3.5 `access_denied`: the request
 * was refused and the device stops polling), not an expiry (`expired_token`
 * would invite the device to start over at once).
 */

import type { DeviceAuthorization } from "./device-authorization.js";
import { OAuthError } from "./oauth-error.js";
import { openPendingId, sealPendingId } from "./pending-id.js";
import {
  afterCursor,
  byCreationDesc,
  type IndexCursor,
  type IndexPage,
} from "./ports/creation-index.js";
import type { DecisionNotifier } from "./ports/decision-notifier.js";
import type { DeviceStore } from "./ports/device-store.js";
import type { FlowEvents } from "./ports/flow-events.js";
import type { ConnectedGrant, TokenStore } from "./ports/token-store.js";

/** The subject an operator's cancellation is recorded under (the record and the audit `denied`). */
export const OPERATOR_SUBJECT = "operator";

/** Rows of a page when the caller names no size. */
export const DEFAULT_PAGE_SIZE = 100;

/** The largest page unless told otherwise (HANDOFF_ADMIN_MAX_PAGE_SIZE). */
export const DEFAULT_MAX_PAGE_SIZE = 500;

/** Whose grants to list: exactly one of the two. */
export type GrantOwner = { readonly clientId: string } | { readonly subject: string };

export interface PendingView {
  /** The opaque id CancelPending takes. */
  readonly pendingId: string;
  readonly authorization: DeviceAuthorization;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** The token of the next page; absent on the last. */
  readonly next?: string;
}

const PAGE_TOKEN = /^([0-9a-z]{1,12})\.(.{1,200})$/;

/** A page token: the cursor, opaque to callers (base64url of `<at base 36>.<id>`). */
function encodeToken(c: IndexCursor): string {
  return Buffer.from(`${c.at.toString(36)}.${c.id}`).toString("base64url");
}

function decodeToken(token: string | undefined): IndexCursor | undefined {
  if (token === undefined || token === "") return undefined;
  const m = PAGE_TOKEN.exec(Buffer.from(token, "base64url").toString());
  if (!m) throw new OAuthError("invalid_request", "page_token is not one this server gave");
  return { at: Number.parseInt(m[1] as string, 36), id: m[2] as string };
}

function pageOf<T>(p: IndexPage<T>): Page<T> {
  return p.next === undefined ? { items: p.items } : { items: p.items, next: encodeToken(p.next) };
}

export class OperatorAuthorizations {
  constructor(
    private readonly deps: {
      readonly devices: DeviceStore;
      readonly tokens: TokenStore;
      readonly notifier?: DecisionNotifier;
      readonly events: FlowEvents;
      /** The largest page (HANDOFF_ADMIN_MAX_PAGE_SIZE); larger asks are capped to it. */
      readonly maxPageSize: number;
      /** Seals the handles into pending ids (./pending-id.ts `pendingIdKeyOf`). */
      readonly pendingIdKey: Buffer;
      readonly clock?: () => number;
    },
  ) {}

  /** 0 means the default; negative is refused; above the maximum is capped. */
  pageSize(asked: number): number {
    if (!Number.isInteger(asked) || asked < 0) {
      throw new OAuthError("invalid_request", "page_size must not be negative");
    }
    return Math.min(asked === 0 ? DEFAULT_PAGE_SIZE : asked, this.deps.maxPageSize);
  }

  /** One page of live grants, newest first. */
  async listGrants(
    owner: GrantOwner,
    pageSize: number,
    pageToken?: string,
  ): Promise<Page<ConnectedGrant>> {
    const limit = this.pageSize(pageSize);
    const after = decodeToken(pageToken);
    const now = this.now();
    if ("clientId" in owner) {
      if (owner.clientId === "") throw new OAuthError("invalid_request", "client_id is required");
      return pageOf(await this.deps.tokens.listByClient(owner.clientId, now, limit, after));
    }
    if (owner.subject === "") throw new OAuthError("invalid_request", "subject is required");
    // The subject's index is bounded (the connected-devices page's): read it whole, page here.
    const all = (await this.deps.tokens.listBySubject(owner.subject, now, Number.MAX_SAFE_INTEGER))
      .map((g) => ({ at: g.createdAt, id: g.familyId, g }))
      .filter((e) => afterCursor(e.at, e.id, after))
      .sort(byCreationDesc);
    const items = all.slice(0, limit);
    const last = items.at(-1);
    return pageOf({
      items: items.map((e) => e.g),
      ...(all.length > limit && last ? { next: { at: last.at, id: last.id } } : {}),
    });
  }

  /** Revokes a live family and its live access tokens; false when none has this id. */
  async revokeGrant(familyId: string): Promise<boolean> {
    if (familyId === "") throw new OAuthError("invalid_request", "family_id is required");
    const out = await this.deps.tokens.revokeFamilyById(familyId, this.now());
    if (out.kind !== "revoked") return false;
    this.deps.events.record({
      event: "revoked",
      tokenType: "refresh_token",
      clientId: out.clientId,
      subject: out.subject,
      by: "service",
    });
    return true;
  }

  /** One page of the client's pending requests, newest first. */
  async listPending(
    clientId: string,
    pageSize: number,
    pageToken?: string,
  ): Promise<Page<PendingView>> {
    if (clientId === "") throw new OAuthError("invalid_request", "client_id is required");
    const limit = this.pageSize(pageSize);
    const page = await this.deps.devices.listPendingByClient(
      clientId,
      this.now(),
      limit,
      decodeToken(pageToken),
    );
    return pageOf({
      items: page.items.map((e) => ({
        pendingId: sealPendingId(this.deps.pendingIdKey, e.device),
        authorization: e.authorization,
      })),
      ...(page.next ? { next: page.next } : {}),
    });
  }

  /**
   * Cancels a pending request as a denial: the device's next poll answers
   * `access_denied` (RFC 8628 §3.5), its waiting streams are woken.
   */
  async cancelPending(pendingId: string, approverAddress?: string): Promise<{ clientId: string }> {
    const device = openPendingId(this.deps.pendingIdKey, pendingId);
    if (device === null) {
      throw new OAuthError("not_found", "no pending request has this id; it may have expired");
    }
    const outcome = await this.deps.devices.decideByDevice(
      device,
      { approve: false, subject: OPERATOR_SUBJECT, grantedScopes: [] },
      this.now(),
    );
    switch (outcome.kind) {
      case "decided": {
        void this.deps.notifier?.publish(device.tag);
        const a = outcome.authorization;
        this.deps.events.record({
          event: "denied",
          clientId: a.clientId,
          subject: OPERATOR_SUBJECT,
          requesterAddress: a.ipAddress,
          approverAddress: approverAddress ?? "",
        });
        return { clientId: a.clientId };
      }
      case "already_decided":
        throw new OAuthError("already_decided", "this request has already been decided");
      case "not_found":
        throw new OAuthError("not_found", "no pending request has this id; it may have expired");
    }
  }

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }
}
