/** User codes: minting by rejection sampling, normalising what people type, display. */
import { csprngBytes } from "./csprng-pool.js";

/**
 * 31 symbols: A–Z and 2–9 without I, L, O, 0 and 1, which people confuse
 * (RFC 8628 §6.1). 8 symbols give 31^8 ≈ 8.5e11 ≈ 2^39.6 codes.
 */
export const USER_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
export const USER_CODE_LENGTH = 8;

const SYMBOL_INDEX = new Map([...USER_CODE_ALPHABET].map((c, i) => [c, i]));

/**
 * Mints a user code from the CSPRNG. Each byte's low 5 bits pick a symbol and
 * values ≥ 31 are rejected, so every symbol is equally likely (31 is not a
 * power of two: a modulo would favour the first symbol).
 */
export function mintUserCode(): string {
  let code = "";
  while (code.length < USER_CODE_LENGTH) {
    for (const byte of csprngBytes(16)) {
      const v = byte & 0x1f;
      if (v < USER_CODE_ALPHABET.length) {
        code += USER_CODE_ALPHABET[v];
        if (code.length === USER_CODE_LENGTH) break;
      }
    }
  }
  return code;
}

/**
 * Turns what a person typed into the canonical code, or null if it cannot be
 * one. Case-insensitive; dashes, spaces and any other separators are ignored;
 * NFKC folds full-width characters that phone keyboards produce.
 */
export function normalizeUserCode(input: string): string | null {
  if (input.length > 64) return null;
  const folded = input
    .normalize("NFKC")
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "");
  if (folded.length !== USER_CODE_LENGTH) return null;
  for (const c of folded) if (!SYMBOL_INDEX.has(c)) return null;
  return folded;
}

/** Formats a canonical code for display: ABCD-EFGH. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
