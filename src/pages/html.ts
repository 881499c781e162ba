/** HTML built from tagged templates that escape every interpolated value unless it is already HTML. */

/** A fragment of HTML that is safe to insert as is. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an element body or a quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

type Value = SafeHtml | string | number | false | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === false || v === null || v === undefined) return "";
  if (v instanceof SafeHtml) return v.text;
  if (Array.isArray(v)) return v.map(render).join("");
  return escapeHtml(String(v));
}

/** `html\`<p>${text}</p>\``: strings are escaped, SafeHtml and arrays of it are not; false/null/undefined vanish. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++)
    out += render(values[i] as Value) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}
