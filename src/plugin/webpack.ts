/** The rnnc plugin for webpack: `import rnnc from "rnnc/webpack"`, then `rnnc({ dtype: "f64" })` among the plugins. */
import { unplugin } from "./index.js";

export default unplugin.webpack;
export type { RnncPluginOptions } from "./index.js";
