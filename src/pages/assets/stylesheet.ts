/**
 * The pages' stylesheet, kept as a TypeScript string so `tsc` carries it into
 * dist/ (tsc copies no assets). Served from a hashed URL, never inline: the
 * Content-Security-Policy has no 'unsafe-inline'.
 */
export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f8;
  --card: #ffffff;
  --text: #161a23;
  --muted: #5b6272;
  --line: #e1e4ea;
  --accent: #3451d1;
  --accent-text: #ffffff;
  --accent-hover: #2a42ae;
  --focus: #f5a623;
  --soft: #f1f3fa;
  --warn-bg: #fff6e5;
  --warn-line: #f0c36b;
  --warn-text: #5c3b00;
  --bad-bg: #fdecec;
  --bad-line: #efa3a3;
  --bad-text: #7a1414;
  --good: #16803c;
  --radius: 14px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  line-height: 1.5;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1218;
    --card: #181c25;
    --text: #e9ecf2;
    --muted: #a0a8b8;
    --line: #2b3140;
    --accent: #7b93ff;
    --accent-text: #0b0e14;
    --accent-hover: #9aadff;
    --soft: #1f2430;
    --warn-bg: #2e2412;
    --warn-line: #8a6420;
    --warn-text: #f6d9a0;
    --bad-bg: #341819;
    --bad-line: #8d3b3b;
    --bad-text: #ffc9c9;
    --good: #4cc47a;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  background: var(--bg);
  color: var(--text);
  display: flex;
  flex-direction: column;
  align-items: center;
}
.bar {
  width: 100%;
  max-width: 34rem;
  display: flex;
  align-items: center;
  justify-content: space-between;
  gap: 1rem;
  padding: 1.25rem 1.25rem 0.75rem;
}
.brand {
  display: inline-flex;
  align-items: center;
  gap: 0.55rem;
  font-weight: 700;
  font-size: 1.05rem;
  letter-spacing: -0.01em;
  color: var(--text);
  text-decoration: none;
}
.brand-mark {
  width: 1.6rem;
  height: 1.6rem;
  border-radius: 0.45rem;
  background: linear-gradient(135deg, var(--accent), #8e5cf7);
  position: relative;
}
.brand-mark::after {
  content: "";
  position: absolute;
  inset: 0.42rem 0.38rem 0.42rem 0.5rem;
  border: 0.18rem solid #fff;
  border-left: 0;
  border-bottom: 0;
  transform: rotate(45deg);
  border-radius: 0.1rem;
  width: 0.55rem;
  height: 0.55rem;
}
.who { display: flex; align-items: center; gap: 0.6rem; font-size: 0.9rem; color: var(--muted); }
.who form { margin: 0; }
main {
  width: 100%;
  max-width: 34rem;
  padding: 0 1rem 2rem;
}
.card {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: var(--radius);
  padding: 2rem 1.75rem;
  box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04), 0 8px 24px rgba(16, 24, 40, 0.06);
}
@media (max-width: 30rem) {
  .card { padding: 1.5rem 1.15rem; }
  .bar { padding: 1rem 1rem 0.5rem; }
}
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 0.5rem; letter-spacing: -0.015em; }
h2 {
  font-size: 0.78rem;
  text-transform: uppercase;
  letter-spacing: 0.06em;
  color: var(--muted);
  margin: 1.5rem 0 0.5rem;
}
p { margin: 0 0 1rem; }
.lead { color: var(--muted); }
.eyebrow { font-size: 0.85rem; font-weight: 600; color: var(--accent); margin-bottom: 0.35rem; }
label { display: block; font-weight: 600; margin: 1.1rem 0 0.35rem; }
input[type="text"], input[type="password"] {
  display: block;
  width: 100%;
  font: inherit;
  font-size: 1.05rem;
  padding: 0.7rem 0.85rem;
  border: 1px solid var(--line);
  border-radius: 10px;
  background: var(--card);
  color: var(--text);
}
input.code-input {
  font-family: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, monospace;
  font-size: 1.6rem;
  letter-spacing: 0.14em;
  text-align: center;
  text-transform: uppercase;
  padding: 0.75rem;
}
input::placeholder { color: var(--muted); opacity: 0.55; }
.hint { font-size: 0.88rem; color: var(--muted); margin: 0.4rem 0 0; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input:focus-visible { border-color: var(--accent); }
button, .button {
  font: inherit;
  font-weight: 600;
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-height: 2.9rem;
  padding: 0.6rem 1.3rem;
  border-radius: 10px;
  border: 1px solid transparent;
  cursor: pointer;
  text-decoration: none;
}
.primary { background: var(--accent); color: var(--accent-text); }
.primary:hover { background: var(--accent-hover); }
.secondary { background: var(--card); color: var(--text); border-color: var(--line); }
.secondary:hover { background: var(--soft); }
.link-button {
  background: none;
  border: 0;
  min-height: 0;
  padding: 0;
  color: var(--accent);
  font-weight: 500;
  text-decoration: underline;
}
.block { width: 100%; margin-top: 1.4rem; }
.actions { display: flex; gap: 0.75rem; margin-top: 1.5rem; }
.actions button { flex: 1; }
.alert {
  border: 1px solid var(--bad-line);
  background: var(--bad-bg);
  color: var(--bad-text);
  border-radius: 10px;
  padding: 0.75rem 0.9rem;
  margin: 1rem 0 0;
}
.warning {
  border: 1px solid var(--warn-line);
  background: var(--warn-bg);
  color: var(--warn-text);
  border-radius: 10px;
  padding: 0.85rem 1rem;
  margin-top: 1.5rem;
  font-size: 0.95rem;
}
.warning strong { display: block; margin-bottom: 0.2rem; }
.compare {
  margin: 1.25rem 0 0;
  padding: 1rem;
  border-radius: 12px;
  background: var(--soft);
  border: 1px dashed var(--line);
  text-align: center;
}
.compare .code {
  display: block;
  font-family: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, monospace;
  font-size: 2rem;
  font-weight: 700;
  letter-spacing: 0.16em;
  margin: 0.15rem 0;
}
.compare small { color: var(--muted); }
.scopes { list-style: none; margin: 0; padding: 0; }
.scopes li {
  display: flex;
  justify-content: space-between;
  align-items: baseline;
  gap: 0.75rem;
  padding: 0.55rem 0;
  border-bottom: 1px solid var(--line);
}
.scopes li:last-child { border-bottom: 0; }
.scopes li::before { content: "✓"; color: var(--good); font-weight: 700; margin-right: 0.1rem; }
.scopes .what { flex: 1; }
code, .mono {
  font-family: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, monospace;
  font-size: 0.85em;
}
.scopes code { color: var(--muted); }
.scopes .host { display: block; font-size: 1.1rem; overflow-wrap: anywhere; }
.scopes .resource { color: var(--muted); overflow-wrap: anywhere; }
.details { display: grid; grid-template-columns: max-content 1fr; gap: 0.4rem 1rem; margin: 0; }
.details dt { color: var(--muted); }
.details dd { margin: 0; overflow-wrap: anywhere; }
.tag {
  display: inline-block;
  font-size: 0.75rem;
  padding: 0.05rem 0.45rem;
  border-radius: 999px;
  background: var(--soft);
  color: var(--muted);
  margin-left: 0.35rem;
}
.tag.unverified { background: var(--warn-bg); color: var(--warn-text); }
@media (max-width: 30rem) {
  .details { grid-template-columns: 1fr; gap: 0.1rem; }
  .details dd { margin-bottom: 0.45rem; }
}
.outcome { text-align: center; }
.outcome .icon {
  width: 3.5rem;
  height: 3.5rem;
  margin: 0 auto 1rem;
  border-radius: 50%;
  display: flex;
  align-items: center;
  justify-content: center;
  font-size: 1.7rem;
  font-weight: 700;
}
.icon.good { background: color-mix(in srgb, var(--good) 15%, transparent); color: var(--good); }
.icon.bad { background: var(--bad-bg); color: var(--bad-text); }
.icon.info { background: var(--soft); color: var(--accent); }
.outcome .button { margin-top: 0.5rem; }
.report { margin-top: 1rem; text-align: center; }
.report button { width: 100%; }
.danger { background: var(--bad-bg); color: var(--bad-text); border-color: var(--bad-line); }
.danger:hover { filter: brightness(0.97); }
.tag.same { color: var(--good); }
.network-note { display: block; font-family: system-ui, sans-serif; font-size: 0.85rem; color: var(--warn-text); margin-top: 0.2rem; }
footer { color: var(--muted); font-size: 0.8rem; padding: 0 1rem 2rem; text-align: center; }
`;
