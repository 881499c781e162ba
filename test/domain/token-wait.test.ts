/**
 * TokenWaits on a real Redis: a decision message that never arrives is made
 * good by the periodic re-check, and the subscription is gone once the wait
 * ends (correctness never depends on pub/sub delivery).
 */
import { Redis } from "ioredis";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { StaticClientRegistry } from "../../src/config/clients-file.js";
import { DeviceFlow } from "../../src/domain/device-flow.js";
import type { DecisionNotifier } from "../../src/domain/ports/decision-notifier.js";
import { NO_FLOW_EVENTS } from "../../src/domain/ports/flow-events.js";
import { DEFAULT_RESOURCE_LIMITS } from "../../src/domain/resource.js";
import { TokenWaits } from "../../src/domain/token-wait.js";
import { RedisDecisionNotifier } from "../../src/store/redis-decision-notifier.js";
import { RedisDeviceStore } from "../../src/store/redis-device-store.js";
import { testConnection, useRedis } from "../support/redis-server.js";
import { PUBLIC_CLIENT } from "../support/test-clients.js";

const redis = useRedis();
const credentials = { clientId: "public-cli", method: "none" } as const;

/** A notifier that loses every published message, as a broken pub/sub link would. */
function dropping(inner: DecisionNotifier): DecisionNotifier & { dropped: number } {
  const n = {
    dropped: 0,
    publish: async () => {
      n.dropped++;
    },
    subscribe: (tag: string, listener: () => void) => inner.subscribe(tag, listener),
    close: () => inner.close(),
  };
  return n;
}

function setup(recheckMs: number, wrap: (n: DecisionNotifier) => DecisionNotifier) {
  const client = testConnection(new Redis(redis.server.url), 1000);
  const real = new RedisDecisionNotifier(client, new Redis(redis.server.url), {
    keyPrefix: "tw:",
    logger: pino({ level: "silent" }),
  });
  const notifier = wrap(real);
  const flow = new DeviceFlow({
    clients: new StaticClientRegistry([PUBLIC_CLIENT]),
    store: new RedisDeviceStore(client, { keyPrefix: "tw:" }),
    tokens: {
      issue: async (g) => ({
        accessToken: `t-${g.subject}`,
        tokenType: "Bearer",
        expiresIn: 60,
        scope: "",
      }),
    },
    notifier,
    options: {
      verificationUri: "https://auth.example/device",
      expiresIn: 60,
      interval: 5,
      jitterToleranceMs: 1000,
      resources: DEFAULT_RESOURCE_LIMITS,
    },
    events: NO_FLOW_EVENTS,
  });
  // What the open-streams gauge would read: every open and end the waits report.
  const streams = { open: 0 };
  const waits = new TokenWaits({
    flow,
    notifier,
    options: { recheckMs, maxOpen: 10, interval: 5 },
    events: {
      ...NO_FLOW_EVENTS,
      streams: (d) => {
        streams.open += d;
      },
    },
  });
  return {
    flow,
    waits,
    streams,
    real,
    close: async () => {
      await real.close();
      client.close();
    },
  };
}

describe("TokenWaits", () => {
  it("a dropped decision message is recovered by the re-check", async () => {
    let lossy: (DecisionNotifier & { dropped: number }) | undefined;
    const s = setup(300, (n) => {
      lossy = dropping(n);
      return lossy;
    });
    try {
      const a = await s.flow.authorize({ credentials, ipAddress: "", userAgent: "" });
      const start = await s.waits.open(credentials, a.deviceCode, new AbortController().signal);
      expect(start.kind).toBe("waiting");
      if (start.kind !== "waiting") return;
      expect(s.streams.open).toBe(1);
      await s.flow.decide({ userCode: a.userCode, subject: "alice", approve: true });
      await expect(start.result).resolves.toMatchObject({ accessToken: "t-alice" });
      expect(lossy?.dropped).toBe(1);
      expect(s.waits.openCount).toBe(0);
      expect(s.streams.open).toBe(0);
      expect(s.real.subscribedChannels).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("with delivery, the message wakes the wait long before a re-check would", async () => {
    const s = setup(600_000, (n) => n);
    try {
      const a = await s.flow.authorize({ credentials, ipAddress: "", userAgent: "" });
      const start = await s.waits.open(credentials, a.deviceCode, new AbortController().signal);
      if (start.kind !== "waiting") throw new Error("expected a wait");
      expect(s.real.subscribedChannels).toBe(1);
      await s.flow.decide({ userCode: a.userCode, subject: "bob", approve: false });
      await expect(start.result).rejects.toMatchObject({ code: "access_denied" });
      expect(s.real.subscribedChannels).toBe(0);
    } finally {
      await s.close();
    }
  });

  it("close() ends open waits with temporarily_unavailable", async () => {
    const s = setup(600_000, (n) => n);
    try {
      const a = await s.flow.authorize({ credentials, ipAddress: "", userAgent: "" });
      const start = await s.waits.open(credentials, a.deviceCode, new AbortController().signal);
      if (start.kind !== "waiting") throw new Error("expected a wait");
      // A second wait that ends before it waits (an unknown code) is reported opened and ended too.
      await expect(
        s.waits.open(credentials, "not-a-device-code", new AbortController().signal),
      ).rejects.toThrow();
      expect(s.streams.open).toBe(1);
      s.waits.close();
      await expect(start.result).rejects.toMatchObject({ code: "temporarily_unavailable" });
      expect(s.waits.openCount).toBe(0);
      expect(s.streams.open).toBe(0);
    } finally {
      await s.close();
    }
  });
});
