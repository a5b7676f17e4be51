/** The runtime every emitted kernel module imports. */
export { DataError, defineCell, record, take, type Kernels } from "./cell.js";
export { MAX_ELEMENTS } from "./limits.js";
export { bumpParams, paramsVersion, trackParams } from "./params.js";
export { elu, erf, gelu, sigmoid, softplus, softsign } from "./math.js";
export { MAX_SEED, checkSeed, mulberry32 } from "./random.js";
export { createArena, plainMaps, plainProducts, plainRowLoops, productsReady, simdAvailable, useSimd, type Arena, type Products } from "./products.js";
export type * from "./types.js";
