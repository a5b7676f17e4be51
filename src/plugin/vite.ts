/** The rnnc plugin for Vite: `import rnnc from "rnnc/vite"`, then `rnnc({ dtype: "f64" })` among the plugins. */
import { unplugin } from "./index.js";

export default unplugin.vite;
export type { RnncPluginOptions } from "./index.js";
