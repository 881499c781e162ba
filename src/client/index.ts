/**
 * handoff/client: the device's side of RFC 8628 for CLIs, usable with any
 * device-flow server and best with handoff (WaitToken). Depends only on the
 * public HTTP and RPC contract (gen/ is generated from proto/).
 */
export { OAuthClientError } from "./client-error.js";
export { type DeviceLoginOptions, type DevicePrompt, deviceLogin } from "./device-login.js";
export { DeviceSession, type SessionOptions } from "./device-session.js";
export {
  type AuthorizationServerMetadata,
  type Discovered,
  discoverFromResource,
  discoverIssuer,
} from "./discovery.js";
export {
  DeviceFlowAuthProvider,
  type DeviceFlowProviderOptions,
  deviceFlowAuthProvider,
  type McpOAuthTokens,
} from "./mcp-oauth-provider.js";
export { type CacheKey, defaultCacheDir, TokenCache } from "./token-cache.js";
export { type PollOptions, pollForTokens } from "./token-polling.js";
export type { ClientIdentity, Tokens } from "./token-request.js";
