/** Module resolve hook: "fs" imported by the conformance package → fs-with-glob-sync.mjs. */
const replacement = new URL("./fs-with-glob-sync.mjs", import.meta.url).href;

export async function resolve(specifier, context, next) {
  const fromConformance = context.parentURL?.includes("/@modelcontextprotocol/conformance/");
  if (fromConformance && (specifier === "fs" || specifier === "node:fs")) {
    return { url: replacement, shortCircuit: true };
  }
  return next(specifier, context);
}
