/**
 * A deliberately strict RFC 8628 server for client tests: it records when
 * each poll came and answers from a script (pending, slow_down, 503 with
 * Retry-After, expired_token …), so a test can check the client's pacing.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type ScriptedAnswer =
  | { readonly error: string }
  | { readonly status: 503; readonly retryAfter: number }
  | { readonly token: string };

export interface StrictServer {
  readonly issuer: string;
  /** Epoch ms of every token request, and of the device authorization response. */
  readonly polls: number[];
  authorizedAt: number;
  close(): Promise<void>;
}

export async function startStrictServer(
  interval: number,
  script: ScriptedAnswer[],
  expiresIn = 600,
): Promise<StrictServer> {
  const state = { polls: [] as number[], authorizedAt: 0 };
  const server = http.createServer((req, res) => {
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on("end", () => {
      if (req.url === "/.well-known/oauth-authorization-server")
        return json(200, {
          issuer,
          token_endpoint: `${issuer}/token`,
          device_authorization_endpoint: `${issuer}/device`,
        });
      if (req.url === "/device") {
        state.authorizedAt = Date.now();
        return json(200, {
          device_code: "dc",
          user_code: "WXYZ-2345",
          verification_uri: `${issuer}/verify`,
          expires_in: expiresIn,
          interval,
        });
      }
      if (req.url === "/token") {
        state.polls.push(Date.now());
        const next = script.shift() ?? { error: "authorization_pending" };
        if ("status" in next)
          return json(
            503,
            { error: "temporarily_unavailable" },
            { "retry-after": String(next.retryAfter) },
          );
        if ("token" in next)
          return json(200, { access_token: next.token, token_type: "Bearer", expires_in: 60 });
        return json(400, { error: next.error });
      }
      json(404, { error: "not_found" });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    issuer: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    polls: state.polls,
    get authorizedAt() {
      return state.authorizedAt;
    },
    set authorizedAt(v) {
      state.authorizedAt = v;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
