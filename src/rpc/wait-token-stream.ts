/** WaitToken over Connect, gRPC and gRPC-Web: the domain's wait as a server stream with heartbeats. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { WaitTokenResponseSchema } from "../../gen/handoff/v1/device_auth_pb.js";
import type { ClientCredentials } from "../domain/client.js";
import type { TokenSet } from "../domain/ports/token-issuer.js";
import type { TokenWaits } from "../domain/token-wait.js";
import { tokenResponse } from "./rpc-translation.js";

type Event = MessageInitShape<typeof WaitTokenResponseSchema>;

const token = (t: TokenSet): Event => ({ event: { case: "token", value: tokenResponse(t) } });

/**
 * Yields a heartbeat at once and then every `heartbeatMs` until the wait
 * ends, then the token set; a refusal or a denial ends the stream with a
 * ConnectError carrying the OAuthError detail (see the proto; the error
 * interceptor, src/rpc/error-interceptor.ts, makes it). Heartbeats
 * keep idle-cutting proxies (and HTTP/2 idle timeouts) from ending a stream
 * that is only waiting.
 */
export async function* waitTokenStream(
  options: { readonly waits: TokenWaits; readonly heartbeatMs: number },
  credentials: ClientCredentials,
  deviceCode: string,
  signal: AbortSignal,
): AsyncGenerator<Event> {
  const start = await options.waits.open(credentials, deviceCode, signal);
  if (start.kind === "issued") {
    yield token(start.tokens);
    return;
  }
  const heartbeat = (): Event => ({
    event: {
      case: "heartbeat",
      value: { expiresIn: Math.max(0, Math.ceil((start.expiresAt - Date.now()) / 1000)) },
    },
  });
  yield heartbeat();
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const beat = new Promise<"beat">((resolve) => {
        timer = setTimeout(() => resolve("beat"), options.heartbeatMs);
      });
      const next = await Promise.race([start.result, beat]);
      clearTimeout(timer);
      if (next !== "beat") {
        yield token(next);
        return;
      }
      yield heartbeat();
    }
  } finally {
    clearTimeout(timer);
  }
}
