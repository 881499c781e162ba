/** `node --import ./register.mjs …conformance/dist/index.js`: installs resolve-hook.mjs. */
import { register } from "node:module";

register("./resolve-hook.mjs", import.meta.url);
