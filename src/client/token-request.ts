/** One form POST to an OAuth endpoint with client authentication, and the RFC 6749 §5.1 token set. */
import { OAuthClientError } from "./client-error.js";

/** A client as the server knows it. */
export interface ClientIdentity {
  readonly clientId: string;
  /** For confidential clients: sent with HTTP Basic (RFC 6749 §2.3.1). */
  readonly clientSecret?: string;
}

/** A token set with its expiry as an instant. */
export interface Tokens {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Epoch ms when the access token expires. */
  readonly expiresAt: number;
  readonly refreshToken?: string;
  readonly scope?: string;
}

/** The raw answer: status, JSON body (or null) and headers. */
export interface FormAnswer {
  readonly status: number;
  readonly body: Record<string, unknown> | null;
  readonly headers: Headers;
}

/** RFC 6749 §2.3.1: id and secret are form-url-encoded before Base64. */
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");

/** POSTs `form` to `url` as `client`; network failures become `network_error`. */
export async function postForm(
  url: string,
  client: ClientIdentity,
  form: Record<string, string | readonly string[]>,
  f: typeof fetch,
  signal?: AbortSignal,
): Promise<FormAnswer> {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };
  if (client.clientSecret === undefined) body.set("client_id", client.clientId);
  else {
    const basic = `${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(basic).toString("base64")}`;
  }
  let res: Response;
  try {
    res = await f(url, {
      method: "POST",
      headers,
      body: body.toString(),
      ...(signal ? { signal } : {}),
    });
  } catch (cause) {
    if (signal?.aborted) throw new OAuthClientError("aborted", "cancelled", undefined, { cause });
    throw new OAuthClientError("network_error", `cannot reach ${url}`, undefined, { cause });
  }
  const text = await res.text();
  let json: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
      json = parsed as Record<string, unknown>;
  } catch {
    // not JSON: json stays null
  }
  return { status: res.status, body: json, headers: res.headers };
}

/** An RFC 6749 §5.2 error answer as an OAuthClientError. */
export function answerError(a: FormAnswer): OAuthClientError {
  const code = typeof a.body?.error === "string" ? a.body.error : "network_error";
  const description =
    typeof a.body?.error_description === "string" ? a.body.error_description : `HTTP ${a.status}`;
  return new OAuthClientError(code, description, a.status);
}

/** RFC 6749 §5.1 success to Tokens (`now` is when the request was sent). */
export function tokensFrom(a: FormAnswer, now: number): Tokens {
  const b = a.body;
  if (a.status !== 200 || b === null || typeof b.access_token !== "string") throw answerError(a);
  const expiresIn = typeof b.expires_in === "number" ? b.expires_in : 3600;
  return {
    accessToken: b.access_token,
    tokenType: typeof b.token_type === "string" ? b.token_type : "Bearer",
    expiresAt: now + expiresIn * 1000,
    ...(typeof b.refresh_token === "string" ? { refreshToken: b.refresh_token } : {}),
    ...(typeof b.scope === "string" ? { scope: b.scope } : {}),
  };
}
