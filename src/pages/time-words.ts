/** Times in words: "3 minutes ago", "in 12 minutes". */

function amount(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} second${s === 1 ? "" : "s"}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? "" : "s"}`;
  const h = Math.round(m / 60);
  return `${h} hour${h === 1 ? "" : "s"}`;
}

/** How long ago `then` was, seen from `now`. */
export function timeAgo(then: Date, now: Date): string {
  const ms = now.getTime() - then.getTime();
  return ms < 5_000 ? "just now" : `${amount(ms)} ago`;
}

/** How long until `then`, seen from `now`. */
export function timeUntil(then: Date, now: Date): string {
  return `in ${amount(then.getTime() - now.getTime())}`;
}
