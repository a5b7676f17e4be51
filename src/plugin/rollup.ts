/** The rnnc plugin for Rollup: `import rnnc from "rnnc/rollup"`, then `rnnc({ dtype: "f64" })` among the plugins. */
import { unplugin } from "./index.js";

export default unplugin.rollup;
export type { RnncPluginOptions } from "./index.js";
