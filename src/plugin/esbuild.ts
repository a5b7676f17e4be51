/** The rnnc plugin for esbuild: `import rnnc from "rnnc/esbuild"`, then `rnnc({ dtype: "f64" })` among the plugins. */
import { unplugin } from "./index.js";

export default unplugin.esbuild;
export type { RnncPluginOptions } from "./index.js";
