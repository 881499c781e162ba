/**
 * HTTP/1.1 form POSTs with autocannon, the request bodies taken in turn:
 * the load of the bench scripts (bench/run.ts, bench/pair.ts,
 * bench/instructions.ts). Keep-alive connections; `duration` (seconds) or
 * `amount` (requests) bounds it.
 */
// @ts-expect-error autocannon ships no types
import autocannon from "autocannon";

export interface FormLoadResult {
  readonly "2xx": number;
  readonly "4xx": number;
  readonly "5xx": number;
  readonly errors: number;
  readonly timeouts: number;
  readonly requests: { readonly total: number; readonly average: number };
  readonly latency: { readonly p50: number; readonly p99: number };
}

export async function formLoad(
  target: string,
  bodies: readonly string[],
  o: { connections: number; duration?: number; amount?: number; timeout?: number },
): Promise<FormLoadResult> {
  let i = 0;
  return (await autocannon({
    url: target,
    ...o,
    requests: [
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        setupRequest: (req: Record<string, unknown>) => ({
          ...req,
          body: bodies[i++ % bodies.length],
        }),
      },
    ],
  })) as FormLoadResult;
}
