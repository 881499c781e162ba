/** A separate CLI process: prints the session's access token from the shared cache (refreshing if needed). */
import { DeviceSession, TokenCache } from "../../../src/client/index.js";

const [issuer, dir] = process.argv.slice(2) as [string, string];
const session = await DeviceSession.open({
  issuer,
  clientId: "public-cli",
  cache: new TokenCache(dir),
});
const t = await session.cachedToken();
process.stdout.write(`${t.accessToken}\n`);
