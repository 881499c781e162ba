/**
 * A form request under construction, and mutations that either keep its
 * meaning (harmless) or break it in a known way: the oracle of the form
 * endpoint properties. A harmless mutation must not change the answer; a
 * breaking one must turn it into the named client error.
 */
import fc from "fast-check";
import {
  brokenEncoding,
  deviceCodeShape,
  formEncode,
  fuzzString,
  headerValue,
  hostileString,
  httpMethod,
  wrongContentType,
} from "./hostile-values.js";
import type { RawRequest } from "./raw-http.js";

export const FORM = "application/x-www-form-urlencoded";

/** Parameters the endpoints read; every other name is ignored (RFC 8628 §3.1, RFC 6749 §3.2). */
export const KNOWN_PARAMS = [
  "client_id",
  "client_secret",
  "scope",
  "resource",
  "grant_type",
  "device_code",
  "refresh_token",
] as const;

interface Param {
  readonly name: string;
  readonly value: string | undefined;
  /** `all` percent-encodes even unreserved characters (same meaning, other bytes). */
  mode: "minimal" | "all";
  /** Raw bytes appended after the encoded value: broken encoding. */
  inject?: string;
}

export interface Draft {
  method: string;
  path: string;
  query: string;
  contentType: string | undefined;
  params: Param[];
  headers: [string, string][];
  /** Empty pairs between and around the parameters (`&&a=b&`). */
  sloppySeparators: boolean;
}

export function draft(method: string, path: string, params: [string, string][]): Draft {
  return {
    method,
    path,
    query: "",
    contentType: FORM,
    params: params.map(([name, value]) => ({ name, value, mode: "minimal" })),
    headers: [],
    sloppySeparators: false,
  };
}

function encode(s: string, mode: Param["mode"]): string {
  if (mode === "minimal") return formEncode(s);
  return [...Buffer.from(s, "utf8")]
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
    .join("");
}

/** The bytes of a draft. */
export function toRequest(d: Draft): RawRequest {
  const pairs = d.params.map((p) => {
    const name = encode(p.name, p.mode);
    const value = p.value === undefined ? "" : `=${encode(p.value, p.mode)}`;
    return name + value + (p.inject ?? "");
  });
  const body = d.sloppySeparators ? `&${pairs.join("&&")}&` : pairs.join("&");
  const headers: [string, string][] = [...d.headers];
  if (d.contentType !== undefined) headers.push(["Content-Type", d.contentType]);
  return {
    method: d.method,
    path: d.query === "" ? d.path : `${d.path}?${d.query}`,
    headers,
    body: Buffer.from(body, "latin1"),
  };
}

/** A change to a draft; what it does to the answer is judged on the final draft (`verdict`). */
export interface Mutation {
  readonly label: string;
  apply(d: Draft): void;
}

/** Counterexamples print as their labels. */
const m = (label: string, apply: (d: Draft) => void): Mutation =>
  Object.assign({ label, apply }, { [fc.toStringMethod]: () => label });

/** Unknown names are ignored (RFC 8628 §3.1): names that can never be a known one. */
const unknownParam = fc
  .tuple(
    fc.oneof(hostileString, fc.stringMatching(/^x_[a-z_]{0,12}$/)),
    fc.oneof(hostileString, fc.string({ maxLength: 40 })),
    fc.boolean(),
  )
  .map(([name, value, all]) =>
    m(`unknown ${JSON.stringify(name)}=${JSON.stringify(value)}`, (d) => {
      d.params.push({ name, value, mode: all ? "all" : "minimal" });
    }),
  );

/** RFC 8628 §3.1: a parameter sent without a value counts as omitted, even beside the same one with a value. */
const emptyKnownParam = fc
  .tuple(fc.constantFrom(...KNOWN_PARAMS), fc.boolean())
  .map(([name, bare]) =>
    m(`empty ${name}${bare ? " (no =)" : ""}`, (d) => {
      d.params.push({ name, value: bare ? undefined : "", mode: "minimal" });
    }),
  );

/** RFC 8628 §3.1: the media type is case-insensitive and `charset=UTF-8` must be accepted. */
const formContentType = fc
  .tuple(
    fc.array(fc.boolean(), { minLength: FORM.length, maxLength: FORM.length }),
    fc.constantFrom(
      "",
      "; charset=UTF-8",
      ";charset=utf-8",
      ' ; charset="UTF-8"',
      "; CHARSET=Utf-8",
    ),
  )
  .map(([upper, suffix]) => {
    const ct = [...FORM].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("") + suffix;
    return m(`content-type ${ct}`, (d) => {
      d.contentType = ct;
    });
  });

const overEncode = fc.nat().map((i) =>
  m(`percent-encode every byte of param #${i}`, (d) => {
    const p = d.params[i % Math.max(1, d.params.length)];
    if (p) p.mode = "all";
  }),
);

const reorder = fc.nat().map((k) =>
  m(`rotate params by ${k}`, (d) => {
    const n = d.params.length;
    if (n > 1) d.params = [...d.params.slice(k % n), ...d.params.slice(0, k % n)];
  }),
);

const sloppy = fc.constant(
  m("empty pairs around the params", (d) => {
    d.sloppySeparators = true;
  }),
);

/** Headers the endpoints read without trusting (the user agent is stored and shown). */
const oddHeader = fc
  .tuple(
    fc.constantFrom(
      "User-Agent",
      "Accept",
      "Accept-Language",
      "X-Forwarded-For",
      "X-Request-Id",
      "Origin",
    ),
    headerValue(300),
  )
  .map(([name, value]) =>
    m(`${name}: ${JSON.stringify(value)}`, (d) => {
      d.headers.push([name, value]);
    }),
  );

/** Authorization headers: other schemes (ignored) and Basic credentials that cannot be right (RFC 6749 §2.3.1). */
const authorization = fc
  .tuple(
    fc.constantFrom("Basic ", "basic ", "BASIC  ", "Basic\t", "Bearer ", "Digest ", "Basicx ", ""),
    fc.oneof(
      headerValue(200),
      fc.string({ maxLength: 60 }).map((s) => Buffer.from(s, "utf8").toString("base64")),
      fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b).toString("base64")),
      // Well below or well above Node's 16 KiB header limit, never at the edge.
      fc
        .oneof(fc.integer({ min: 1000, max: 12_000 }), fc.integer({ min: 20_000, max: 40_000 }))
        .map((n) => "QUFB".repeat(n / 4)),
      fc.constantFrom("", "=", "==", ":", "Og==", "OnNlY3JldA==", "cHVibGljLWNsaTo=", "%%%%", "é"),
    ),
  )
  .map(([scheme, token]) =>
    m(`Authorization: ${JSON.stringify((scheme + token).slice(0, 80))}`, (d) => {
      d.headers.push(["Authorization", scheme + token]);
    }),
  );

const junkQuery = fc.stringMatching(/^[A-Za-z0-9%&=._~-]{1,60}$/).map((q) =>
  m(`query ?${q}`, (d) => {
    d.query = q;
  }),
);

/** RFC 8628 §3.1, RFC 6749 §3.2: a parameter sent twice (`resource` may repeat). */
const repeatParam = fc
  .tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 20 }))
  .map(([i, value]) =>
    m(`repeat param #${i} as ${JSON.stringify(value)}`, (d) => {
      const p = d.params[i % Math.max(1, d.params.length)];
      if (p) d.params.push({ name: p.name, value, mode: "minimal" });
    }),
  );

/** Malformed percent-encoding or invalid UTF-8 somewhere in the body. */
const brokenParam = fc.tuple(fc.nat(), brokenEncoding, fc.boolean()).map(([i, seq, asPair]) =>
  m(`broken ${JSON.stringify(seq)} ${asPair ? "as a pair" : `after param #${i}`}`, (d) => {
    const p = d.params[i % Math.max(1, d.params.length)];
    if (asPair || !p) d.params.push({ name: "x", value: "", mode: "minimal", inject: seq });
    else p.inject = (p.inject ?? "") + seq;
  }),
);

const wrongType = fc.option(wrongContentType, { nil: undefined }).map((ct) =>
  m(`content-type ${JSON.stringify(ct)}`, (d) => {
    d.contentType = ct;
  }),
);

// CONNECT takes over the socket in Node (a tunnel); the raw-socket tests cover it.
const otherMethod = httpMethod
  .filter((x) => x !== "CONNECT")
  .map((method) =>
    m(`method ${method}`, (d) => {
      d.method = method;
    }),
  );

const oversize = fc.integer({ min: 4100, max: 12_000 }).map((n) =>
  m(`pad the body to ${n} bytes`, (d) => {
    d.params.push({ name: "pad", value: "a".repeat(n), mode: "minimal" });
  }),
);

/** Sets a value the endpoint checks: the first non-empty one of that name, or a new one. */
function setValue(name: string, value: fc.Arbitrary<string>) {
  return value.map((v) =>
    m(`${name}=${JSON.stringify(v.slice(0, 80))} (${v.length} chars)`, (d) => {
      const i = d.params.findIndex((p) => p.name === name && p.value);
      const p: Param = { name, value: v, mode: "minimal" };
      if (i === -1) d.params.push(p);
      else d.params[i] = { ...p, mode: d.params[i]?.mode ?? "minimal" };
    }),
  );
}

const VALID_SCOPES = ["read", "write", "admin"];
const scopeValue = fc.oneof(
  fuzzString,
  fc.array(fc.constantFrom(...VALID_SCOPES, "", " ", "READ", "delete")).map((a) => a.join(" ")),
);

/** Mutations for either form endpoint, mostly harmless ones. */
export function formMutations(endpoint: "authorize" | "token"): fc.Arbitrary<Mutation[]> {
  const harmless = fc.oneof(
    unknownParam,
    emptyKnownParam,
    formContentType,
    overEncode,
    reorder,
    sloppy,
    oddHeader,
    junkQuery,
  );
  const common = [
    repeatParam,
    brokenParam,
    wrongType,
    otherMethod,
    authorization,
    oversize,
    setValue("client_id", fuzzString),
    setValue("client_secret", fuzzString),
  ];
  const breaking =
    endpoint === "authorize"
      ? fc.oneof(...common, setValue("scope", scopeValue), setValue("resource", fuzzString))
      : fc.oneof(
          ...common,
          setValue("grant_type", fuzzString),
          setValue("device_code", deviceCodeShape),
        );
  return fc.array(
    fc.oneof({ weight: 3, arbitrary: harmless }, { weight: 2, arbitrary: breaking }),
    { maxLength: 6 },
  );
}

/** A reason the request must fail, with the answers allowed for it (empty: any 4xx). */
export interface Breakage {
  readonly what: string;
  readonly statuses: readonly number[];
  readonly errors: readonly string[];
}

/** What the answer to a draft must be. */
export interface Verdict {
  /** Each must fail the request; with one, its status and error are checked. */
  readonly broken: readonly Breakage[];
  /** Valid or `invalid_target` depending on an odd value's URI grammar (RFC 8707 §2). */
  readonly resourceInDoubt: boolean;
}

/** What the endpoint accepts as the valid base request (the rest of the draft is judged). */
export interface Valid {
  readonly endpoint: "authorize" | "token";
  readonly deviceCode?: string;
  readonly bodyLimit: number;
}

const invalidRequest = (what: string): Breakage => ({
  what,
  statuses: [400],
  errors: ["invalid_request"],
});

/**
 * Judges a final draft against the rules the endpoints promise: RFC 8628 §3.1,
 * RFC 6749 §2.3.1, §3.2, §3.3, RFC 8707 §2.
 */
export function verdict(d: Draft, v: Valid): Verdict {
  const broken: Breakage[] = [];
  const req = toRequest(d);
  if (d.method !== "POST") {
    broken.push({ what: `method ${d.method}`, statuses: [400, 404, 405, 413], errors: [] });
  }
  const ct = d.contentType?.split(";")[0]?.trim().toLowerCase();
  if (ct !== FORM) broken.push(invalidRequest("not a form"));
  if (req.body.length > v.bodyLimit) {
    broken.push({ what: "too large", statuses: [413], errors: ["invalid_request"] });
  }
  const head = req.headers.reduce((n, [name, value]) => n + name.length + value.length + 4, 0);
  if (head > MAX_HEADER_BYTES) {
    broken.push({ what: "headers too large", statuses: [431], errors: ["invalid_request"] });
  }
  if (d.params.some((p) => p.inject !== undefined)) broken.push(invalidRequest("broken encoding"));

  const values = (name: string) =>
    d.params.filter((p) => p.name === name && p.value).map((p) => p.value as string);
  for (const name of KNOWN_PARAMS) {
    if (name !== "resource" && values(name).length > 1)
      broken.push(invalidRequest(`${name} repeated`));
  }
  // Node keeps the first Authorization header and trims its surrounding whitespace.
  const auth = d.headers
    .find(([n]) => n.toLowerCase() === "authorization")?.[1]
    .replace(/^[ \t]+|[ \t]+$/g, "");
  if (auth !== undefined && /^basic /i.test(auth)) {
    broken.push({ what: "Basic credentials", statuses: [400, 401, 431], errors: [] });
  }
  const [clientId] = values("client_id");
  if (clientId === undefined) broken.push(invalidRequest("no client_id"));
  else if (clientId !== "public-cli") {
    broken.push({
      what: "unknown client",
      statuses: [400, 401],
      errors: ["invalid_client", "invalid_request"],
    });
  }
  if (values("client_secret").length > 0) {
    broken.push({ what: "a secret for a public client", statuses: [400, 401], errors: [] });
  }

  let resourceInDoubt = false;
  if (v.endpoint === "authorize") {
    const [scope] = values("scope");
    if (
      scope !== undefined &&
      !scope.split(" ").every((t) => t === "" || VALID_SCOPES.includes(t))
    ) {
      broken.push({ what: "scope", statuses: [400], errors: ["invalid_scope", "invalid_request"] });
    }
  } else {
    const [grant] = values("grant_type");
    if (grant === undefined) broken.push(invalidRequest("no grant_type"));
    else if (grant !== DEVICE_GRANT) {
      broken.push({
        what: "grant type",
        statuses: [400],
        errors: ["unsupported_grant_type", "invalid_request"],
      });
    }
    const [code] = values("device_code");
    if (code === undefined) broken.push(invalidRequest("no device_code"));
    else if (code !== v.deviceCode) {
      broken.push({
        what: "device code",
        statuses: [400],
        errors: ["invalid_grant", "invalid_request"],
      });
    }
  }
  // RFC 8707 §2: never a fragment, a space, a control character (RFC 3986 has none); an
  // odd value without them may still be an absolute URI.
  const resources = values("resource");
  if (resources.some((r) => /[\0-\x20\x7f#]|\s/.test(r))) {
    broken.push({ what: "resource", statuses: [400], errors: ["invalid_target"] });
  } else if (resources.some((r) => r !== "https://mcp.example.com/")) resourceInDoubt = true;
  return { broken, resourceInDoubt };
}

/** Node's default `maxHeaderSize`: 16 KiB of request line and headers. */
export const MAX_HEADER_BYTES = 16 * 1024;

export const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
