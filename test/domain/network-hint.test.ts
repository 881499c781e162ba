/** The consent screen's network hint: IPv4 /24, IPv6 /48, mapped addresses, garbage. */
import { describe, expect, it } from "vitest";
import { networkHint } from "../../src/domain/network-hint.js";

describe("networkHint", () => {
  it("the same IPv4 /24 is one network; the next /24 is not", () => {
    expect(networkHint("192.0.2.10", "192.0.2.200")).toEqual({
      kind: "same_network",
      network: "192.0.2.0/24",
    });
    expect(networkHint("192.0.2.10", "192.0.3.10")).toEqual({ kind: "different" });
  });

  it("the same IPv6 /48 is one network; another /48 is not", () => {
    expect(networkHint("2001:db8:1:2::5", "2001:db8:1:ffff::9")).toEqual({
      kind: "same_network",
      network: "2001:db8:1::/48",
    });
    expect(networkHint("2001:db8:1::5", "2001:db8:2::5")).toEqual({ kind: "different" });
  });

  it("an IPv4-mapped IPv6 address is its IPv4 address", () => {
    expect(networkHint("::ffff:127.0.0.1", "127.0.0.1")).toEqual({ kind: "same_address" });
    expect(networkHint("::ffff:10.1.2.3", "10.1.2.4").kind).toBe("same_network");
  });

  it("IPv4 against IPv6 differs; anything that is not an address is unknown", () => {
    expect(networkHint("192.0.2.1", "2001:db8::1")).toEqual({ kind: "different" });
    expect(networkHint("", "192.0.2.1")).toEqual({ kind: "unknown" });
    expect(networkHint("192.0.2.1", "not-an-ip")).toEqual({ kind: "unknown" });
    expect(networkHint("2001:db8::1", "2001:0db8:0000::0001")).toEqual({ kind: "same_address" });
  });
});
