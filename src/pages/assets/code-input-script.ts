/**
 * The pages' only script, kept as a TypeScript string so `tsc` carries it
 * into dist/. It only improves the code field (upper case, a dash after four
 * symbols as you type); without it the form works the same, because the
 * server ignores case and separators (RFC 8628 §6.1).
 */
export const CODE_INPUT_SCRIPT = `
(function () {
  "use strict";
  var input = document.querySelector("input.code-input");
  if (!input) return;
  input.addEventListener("input", function () {
    var atEnd = input.selectionStart === input.value.length;
    var raw = input.value.toUpperCase().replace(/[^A-Z0-9]/g, "");
    if (raw.length > 8) return;
    var formatted = raw.length > 4 ? raw.slice(0, 4) + "-" + raw.slice(4) : raw;
    if (formatted !== input.value && atEnd) input.value = formatted;
  });
})();
`;
