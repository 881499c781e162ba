/** Who approved a grant: the subject (`sub`) every grant records. */
import { OAuthError } from "./oauth-error.js";

const HAS_CONTROL_CHAR = /\p{Cc}/u; // no /g: .test() must not keep state

/**
 * A subject is 1 to 256 characters without controls: it goes into JWTs and
 * into packed store records whose separator is a control character.
 */
export function checkSubject(subject: string): string {
  if (subject === "" || subject.length > 256 || HAS_CONTROL_CHAR.test(subject)) {
    throw new OAuthError("invalid_request", "subject must be 1 to 256 characters");
  }
  return subject;
}
