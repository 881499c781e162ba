/** How hard the fuzz tests try: CI-sized by default, deeper with FUZZ_SCALE. */

/**
 * fast-check parameters for `n` cases, times `FUZZ_SCALE` (default 1; e.g.
 * `FUZZ_SCALE=20 npx vitest run test/fuzz` for a long hunt). `FUZZ_SEED`
 * replays a failure that fast-check reported.
 */
export function runs(n: number): { numRuns: number; seed?: number } {
  const scale = Number(process.env.FUZZ_SCALE ?? "1");
  const seed = process.env.FUZZ_SEED;
  return {
    numRuns: Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    ...(seed === undefined ? {} : { seed: Number(seed) }),
  };
}
