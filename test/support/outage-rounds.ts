/**
 * The outage check shared by the standalone and Cluster outage tests: every
 * store-backed endpoint and RPC, fired in rounds for the whole outage, must
 * answer the outage answer within the store deadline plus a margin.
 */
import { expect } from "vitest";
import { sleep } from "./handoff-server.js";
import { type ProbeFixture, type ProbeResult, probeAll } from "./outage-probes.js";

/**
 * Generous on purpose: the machine running CI is shared and loaded. A hang
 * (what the outage tests found) lasts minutes, so this still tells the two apart.
 */
export const ANSWER_MARGIN_MS = 2500;

/** Fires `rounds` rounds of probes `gapMs` apart; every answer must be the outage answer in time. */
export async function expectOutageAnswers(
  base: string,
  fixture: ProbeFixture,
  deadlineMs: number,
  rounds: number,
  gapMs: number,
): Promise<ProbeResult[][]> {
  const all: ProbeResult[][] = [];
  for (let round = 0; round < rounds; round++) {
    const results = await probeAll(base, fixture);
    all.push(results);
    const late = results.filter((r) => r.ms > deadlineMs + ANSWER_MARGIN_MS);
    const wrong = results.filter((r) => r.answer !== "unavailable");
    expect({ round, late, wrong }).toEqual({ round, late: [], wrong: [] });
    await sleep(gapMs);
  }
  return all;
}

/** The slowest answer of each round, for the log. */
export function slowest(rounds: ProbeResult[][]): number[] {
  return rounds.map((r) => Math.max(...r.map((p) => p.ms)));
}
