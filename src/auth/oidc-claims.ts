/**
 * Who an upstream OpenID Connect sign-in says is there, and whether they may
 * use handoff: the subject from the configured claim, the allowed e-mail
 * domains and the required group. Pure, so every refusal is testable without
 * a provider. The claims are the ID token's (validated by openid-client:
 * OpenID Connect Core 1.0 §3.1.3.7), with the UserInfo response's
 * (§5.3.2, its `sub` checked equal) where the ID token lacks one.
 */
import { checkSubject } from "../domain/subject.js";

/** Which claim names the person in handoff (HANDOFF_OIDC_SUBJECT_CLAIM). */
export type SubjectClaim = "sub" | "email" | "preferred_username";

/** The rules a sign-in must pass. */
export interface ClaimRules {
  readonly subjectClaim: SubjectClaim;
  /** Lower-case domains; empty: any (HANDOFF_OIDC_ALLOWED_DOMAINS). */
  readonly allowedDomains: readonly string[];
  /** A claim that must hold this value (HANDOFF_OIDC_GROUP_CLAIM, HANDOFF_OIDC_REQUIRED_GROUP). */
  readonly requiredGroup?: { readonly claim: string; readonly value: string };
}

/** Why a sign-in is refused: a reason for the log, words for the person. */
export interface ClaimRefusal {
  readonly reason: "missing_claim" | "email_unverified" | "domain_not_allowed" | "group_missing";
  readonly title: string;
  readonly message: string;
}

export type ClaimVerdict =
  | { readonly ok: true; readonly subject: string }
  | { readonly ok: false; readonly refusal: ClaimRefusal };

/** Claims as openid-client returns them (JSON values). */
export type Claims = Readonly<Record<string, unknown>>;

/** `email_verified` is a boolean (§5.1); some providers send the string "true". */
const verified = (claims: Claims) =>
  claims.email_verified === true || claims.email_verified === "true";

/** The domain of an address, lower-cased; undefined unless it is `local@domain`. */
function domainOf(email: string): string | undefined {
  const at = email.lastIndexOf("@");
  if (at <= 0 || at === email.length - 1) return undefined;
  return email.slice(at + 1).toLowerCase();
}

/** Whether a group claim (an array of strings, or one string) holds `value`. */
function holds(claim: unknown, value: string): boolean {
  if (typeof claim === "string") return claim === value;
  return Array.isArray(claim) && claim.some((g) => g === value);
}

/** The claims the rules read, so the caller knows whether the UserInfo endpoint is needed. */
export function claimsNeeded(rules: ClaimRules): string[] {
  const needed = new Set<string>([rules.subjectClaim]);
  if (rules.subjectClaim === "email" || rules.allowedDomains.length > 0) {
    needed.add("email");
    needed.add("email_verified");
  }
  if (rules.requiredGroup) needed.add(rules.requiredGroup.claim);
  return [...needed];
}

const refuse = (reason: ClaimRefusal["reason"], title: string, message: string): ClaimVerdict => ({
  ok: false,
  refusal: { reason, title, message },
});

/** The handoff subject for these claims, or why not. */
export function subjectFromClaims(claims: Claims, rules: ClaimRules): ClaimVerdict {
  const raw = claims[rules.subjectClaim];
  if (typeof raw !== "string" || raw.trim() === "") {
    return refuse(
      "missing_claim",
      "Your account can't be used here",
      `Your identity provider did not say who you are (no "${rules.subjectClaim}" claim). Ask your administrator.`,
    );
  }
  let subject: string;
  try {
    subject = checkSubject(rules.subjectClaim === "email" ? raw.trim().toLowerCase() : raw);
  } catch {
    return refuse(
      "missing_claim",
      "Your account can't be used here",
      `Your identity provider sent a "${rules.subjectClaim}" this server cannot use. Ask your administrator.`,
    );
  }
  // An unverified address may belong to someone else (OpenID Connect Core 1.0 §5.7).
  const email = typeof claims.email === "string" ? claims.email.trim() : undefined;
  if (rules.subjectClaim === "email" || rules.allowedDomains.length > 0) {
    if (email === undefined) {
      return refuse(
        "missing_claim",
        "Your account can't be used here",
        "Your identity provider did not share your e-mail address, which this server needs. Ask your administrator.",
      );
    }
    if (!verified(claims)) {
      return refuse(
        "email_unverified",
        "Verify your e-mail address first",
        "Your identity provider says your e-mail address is not verified. Verify it there, then try again.",
      );
    }
  }
  if (rules.allowedDomains.length > 0) {
    const domain = email === undefined ? undefined : domainOf(email);
    if (domain === undefined || !rules.allowedDomains.includes(domain)) {
      return refuse(
        "domain_not_allowed",
        "This account can't be used here",
        `Accounts ${domain ? `at ${domain}` : "like yours"} can't sign in to this server. Sign out at your identity provider and use your work account.`,
      );
    }
  }
  if (rules.requiredGroup && !holds(claims[rules.requiredGroup.claim], rules.requiredGroup.value)) {
    return refuse(
      "group_missing",
      "You don't have access",
      "Your account is not in the group that may connect devices here. Ask your administrator for access.",
    );
  }
  return { ok: true, subject };
}
