/**
 * Who an upstream sign-in names, and who it refuses (README "Sign in with
 * your identity provider"): the subject claim, OpenID Connect Core 1.0 §5.7
 * (an unverified email names no one), the allowed domains and the group.
 */
import { describe, expect, it } from "vitest";
import { type ClaimRules, claimsNeeded, subjectFromClaims } from "../../src/auth/oidc-claims.js";

const ALICE = {
  sub: "00u1a2b3",
  email: "Alice@Example.COM",
  email_verified: true,
  preferred_username: "alice",
  groups: ["handoff-users"],
};
const rules = (r: Partial<ClaimRules> = {}): ClaimRules => ({
  subjectClaim: "sub",
  allowedDomains: [],
  ...r,
});
const reason = (claims: Record<string, unknown>, r: Partial<ClaimRules>) => {
  const v = subjectFromClaims(claims, rules(r));
  return v.ok ? `ok:${v.subject}` : v.refusal.reason;
};

describe("subject from claims", () => {
  it("takes sub, email (lower-cased) or preferred_username as configured", () => {
    expect(reason(ALICE, {})).toBe("ok:00u1a2b3");
    expect(reason(ALICE, { subjectClaim: "email" })).toBe("ok:alice@example.com");
    expect(reason(ALICE, { subjectClaim: "preferred_username" })).toBe("ok:alice");
  });

  it("refuses a missing or unusable subject claim", () => {
    const { preferred_username: _, ...noName } = ALICE;
    expect(reason(noName, { subjectClaim: "preferred_username" })).toBe("missing_claim");
    expect(
      reason({ ...ALICE, preferred_username: "a\u0000b" }, { subjectClaim: "preferred_username" }),
    ).toBe("missing_claim");
    expect(reason({ ...ALICE, sub: "x".repeat(257) }, {})).toBe("missing_claim");
  });

  it('§5.7: an email names someone only when email_verified is true (or the string "true")', () => {
    for (const v of [false, "false", undefined, 1]) {
      expect(reason({ ...ALICE, email_verified: v }, { subjectClaim: "email" })).toBe(
        "email_unverified",
      );
    }
    expect(reason({ ...ALICE, email_verified: "true" }, { subjectClaim: "email" })).toBe(
      "ok:alice@example.com",
    );
  });

  it("allowed domains compare the verified email's domain, case-insensitively, exactly", () => {
    const only = { allowedDomains: ["example.com"] };
    expect(reason(ALICE, only)).toBe("ok:00u1a2b3");
    expect(reason({ ...ALICE, email: "a@sub.example.com" }, only)).toBe("domain_not_allowed");
    expect(reason({ ...ALICE, email: "a@example.com.evil.test" }, only)).toBe("domain_not_allowed");
    expect(reason({ ...ALICE, email: "a@evil.test@example.com" }, only)).toBe("ok:00u1a2b3");
    expect(reason({ ...ALICE, email: "no-at-sign" }, only)).toBe("domain_not_allowed");
    expect(reason({ ...ALICE, email_verified: false }, only)).toBe("email_unverified");
    const { email: _, ...noEmail } = ALICE;
    expect(reason(noEmail, only)).toBe("missing_claim");
  });

  it("the required group: an array holding it, or the one string; anything else refuses", () => {
    const group = { requiredGroup: { claim: "groups", value: "handoff-users" } };
    expect(reason(ALICE, group)).toBe("ok:00u1a2b3");
    expect(reason({ ...ALICE, groups: "handoff-users" }, group)).toBe("ok:00u1a2b3");
    expect(reason({ ...ALICE, groups: ["handoff-users-2"] }, group)).toBe("group_missing");
    expect(reason({ ...ALICE, groups: "handoff-users other" }, group)).toBe("group_missing");
    expect(reason({ ...ALICE, groups: undefined }, group)).toBe("group_missing");
  });

  it("names the claims the rules read (UserInfo is asked only when the ID token lacks one)", () => {
    expect(claimsNeeded(rules())).toEqual(["sub"]);
    expect(
      claimsNeeded(rules({ subjectClaim: "email", requiredGroup: { claim: "roles", value: "x" } })),
    ).toEqual(["email", "email_verified", "roles"]);
  });
});
