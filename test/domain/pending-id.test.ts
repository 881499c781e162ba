/**
 * Pending ids (src/domain/pending-id.ts): a device-code handle sealed under
 * the instances' key. The id must not show the handle's routing tag (24 bits
 * of a hash of the user code), must open on every instance with the same
 * key, and must open to nothing under another key or when altered.
 */
import { describe, expect, it } from "vitest";
import { mintCodes } from "../../src/domain/device-code.js";
import { openPendingId, pendingIdKeyOf, sealPendingId } from "../../src/domain/pending-id.js";
import { mintUserCode } from "../../src/domain/user-code.js";

const ADMIN = "an-admin-token-of-at-least-32-characters-0123";

function handles(n: number) {
  return Array.from({ length: n }, () => mintCodes(mintUserCode(), Date.now() + 60_000).device);
}

describe("pending ids", () => {
  it("open to the handle they seal, under a key derived the same way on every instance", () => {
    for (const h of handles(200)) {
      const id = sealPendingId(pendingIdKeyOf(ADMIN), h);
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(openPendingId(pendingIdKeyOf(ADMIN), id)).toEqual(h);
      expect(sealPendingId(pendingIdKeyOf(ADMIN), h)).toBe(id);
    }
  });

  it("show neither the routing tag nor the hash", () => {
    for (const h of handles(200)) {
      const id = sealPendingId(pendingIdKeyOf(ADMIN), h);
      expect(id).not.toContain(h.tag);
      expect(id).not.toContain(h.hash.slice(0, 6));
    }
    // The same tag (one user code's) gives unrelated ids for different hashes.
    const [h] = handles(1);
    if (!h) throw new Error("no handle");
    const ids = ["AAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAB"].map((hash) =>
      sealPendingId(pendingIdKeyOf(ADMIN), { tag: h.tag, hash }),
    );
    expect((ids[0] as string).slice(0, 4)).not.toBe((ids[1] as string).slice(0, 4));
  });

  it("open to nothing under another key, altered, or in another spelling", () => {
    const other = pendingIdKeyOf(`${ADMIN}-rotated`);
    let foreign = 0;
    for (const h of handles(200)) {
      const id = sealPendingId(pendingIdKeyOf(ADMIN), h);
      if (openPendingId(other, id) !== null) foreign++;
      const altered = `${id[0] === "A" ? "B" : "A"}${id.slice(1)}`;
      expect(openPendingId(pendingIdKeyOf(ADMIN), altered)).not.toEqual(h);
      // 22 characters carry 4 spare bits: only the spelling the server wrote opens.
      const last = id.at(-1) as string;
      const respelt = `${id.slice(0, 21)}${String.fromCharCode(last.charCodeAt(0) ^ 1)}`;
      expect(openPendingId(pendingIdKeyOf(ADMIN), respelt)).not.toEqual(h);
    }
    // A foreign key opens about 1 id in 256 to some handle (the version byte), never to this one.
    expect(foreign).toBeLessThan(10);
    for (const bad of ["", "not-an-id", "A".repeat(20), "A".repeat(23), "=".repeat(22)]) {
      expect(openPendingId(pendingIdKeyOf(ADMIN), bad)).toBeNull();
    }
  });
});
