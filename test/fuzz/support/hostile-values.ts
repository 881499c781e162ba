/** fast-check arbitraries for what an attacker or a broken client puts in a request. */
import fc from "fast-check";

/**
 * Characters that break naive parsers, logs and terminals: NUL, CR/LF, other
 * C0/C1 controls, DEL, Unicode line and paragraph separators, bidi controls
 * (RTL override, isolates), the BOM, zero-width joiners, lone surrogates,
 * non-characters, an astral symbol and full-width letters.
 */
export const HOSTILE_CHARS = [
  "\0",
  "\r",
  "\n",
  "\r\n",
  "\t",
  "\x0b",
  "\x1b[31m",
  "\x7f",
  "\x85",
  "\u2028",
  "\u2029",
  "\u200e",
  "\u200f",
  "\u202e",
  "\u2066",
  "\ufeff",
  "\u200d",
  "\ud800",
  "\udfff",
  "\uffff",
  "\u{1d518}",
  "Ｂ",
] as const;

export const hostileChar = fc.constantFrom(...HOSTILE_CHARS);

/** Any string, including lone surrogates. */
export const anyString = (maxLength = 40) => fc.string({ unit: "binary", maxLength });

/** A string that always holds at least one hostile character. */
export const hostileString = fc
  .tuple(anyString(20), hostileChar, anyString(20))
  .map(([a, h, b]) => a + h + b);

/** Long strings: a repeated fragment, from a few hundred characters to past the body limit. */
export const hugeString = fc
  .tuple(fc.oneof(fc.constant("A"), hostileChar, anyString(4)), fc.integer({ min: 300, max: 9000 }))
  .map(([s, n]) => (s === "" ? "x" : s).repeat(Math.ceil(n / Math.max(1, s.length))));

/** Random, hostile or huge: the values a fuzzed field gets. */
export const fuzzString = fc.oneof(
  { weight: 3, arbitrary: anyString() },
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: hugeString },
);

/**
 * User codes in every case and shape: the canonical form with odd
 * separators, lower case, full-width, too short or long, confusable
 * letters, and noise.
 */
export const userCodeShape = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[A-HJKMNP-Z2-9]{8}$/),
      fc.constantFrom("-", " ", "", "--", "\t", "\u2010", "_", ".", "\u00a0", "\u2028"),
      fc.boolean(),
    )
    .map(([c, sep, lower]) => {
      const s = `${c.slice(0, 4)}${sep}${c.slice(4)}`;
      return lower ? s.toLowerCase() : s;
    }),
  fc.stringMatching(/^[A-Za-z0-9-]{0,20}$/),
  fc.stringMatching(/^[IiLlOo01]{8}$/),
  fc
    .stringMatching(/^[A-HJKMNP-Z2-9]{8}$/)
    .map((c) => [...c].map((x) => String.fromCodePoint((x.codePointAt(0) ?? 0) + 0xfee0)).join("")),
  fuzzString,
);

/** Device codes shaped like ours (`xxxx.expiry.secret`) and not. */
export const deviceCodeShape = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,6}$/),
      fc.stringMatching(/^[0-9a-z]{0,8}$/),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,50}$/),
    )
    .map((parts) => parts.join(".")),
  fc.stringMatching(/^[.A-Za-z0-9_=-]{0,80}$/),
  fuzzString,
);

/** Percent-encodes every byte of the UTF-8 form except unreserved characters. */
export function formEncode(s: string): string {
  let out = "";
  for (const byte of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Byte sequences that are not valid form encoding once percent-decoded or
 * read as UTF-8: a bare `%`, non-hex escapes, truncated, overlong and
 * surrogate sequences, and raw bytes that are not UTF-8.
 */
export const brokenEncoding = fc.constantFrom(
  "%",
  "%4",
  "%G0",
  "%zz",
  "%%",
  "%E2%82",
  "%C0%AF",
  "%ED%A0%80",
  "%F8%88%80%80%80",
  "%FF",
  "%80",
  "\xff",
  "\xc3",
  "\xed\xa0\x80",
  "\xc0\xaf",
  "\x80",
);

/** An HTTP method, well known or not. */
export const httpMethod = fc.oneof(
  fc.constantFrom(
    "GET",
    "HEAD",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "TRACE",
    "PROPFIND",
    "MKCOL",
    "SEARCH",
    "PURGE",
    "LINK",
    "QUERY",
    "CONNECT",
  ),
  fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,12}$/),
);

/** Content types: none of them `application/x-www-form-urlencoded` (exactly, in any case). */
export const wrongContentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "text/plain;charset=UTF-8",
    "multipart/form-data; boundary=----x",
    "multipart/form-data",
    "application/x-www-form-urlencoded-extra",
    "application/x-www-form",
    "x-www-form-urlencoded",
    "application/xml",
    "application/octet-stream",
    "application/proto",
    "application/grpc",
    "*/*",
    "",
    ";",
    "application/",
    "/",
  ),
  fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
);

/** A header value Node's parser accepts: visible ASCII, space, tab and obs-text (latin1). */
export const headerValue = (maxLength = 200) => fc.string({ unit: headerChar, maxLength });

const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => String.fromCharCode(c));
