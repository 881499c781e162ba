/** Scopes in plain words for the consent screen (RFC 8628 §5.4: the person must understand what they grant). */

const WORDS: Record<string, string> = {
  read: "Read your data",
  write: "Create, change and delete your data",
  profile: "See your profile (name and e-mail address)",
  email: "See your e-mail address",
  openid: "Confirm who you are",
  offline_access: "Stay signed in when you are not using it",
  admin: "Administer your account, including its settings and other people's access",
};

/** The plain-words description of a scope; unknown scopes are named as they are. */
export function scopeWords(scope: string): string {
  return WORDS[scope] ?? `Use the permission “${scope}”`;
}
