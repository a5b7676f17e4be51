/** The training runtime: everything needed to train compiled cells on sequence tasks. */

export { Rng, fillUniform, pytorchUniform, xavierUniform, orthogonal, initializeParams } from "./init.js";
export type { InitOptions, WeightScheme, BiasScheme } from "./init.js";
export { Dense } from "./dense.js";
export type { DenseOptions } from "./dense.js";
export { meanSquaredError, softmaxCrossEntropy, softmax, argmaxRows, accuracy } from "./loss.js";
export type { LossResult, LossOptions } from "./loss.js";
export { Sgd, Adam, zeroGrads, gradNorm, clipGradNorm } from "./optim.js";
export { bumpParams, trackParams } from "../runtime/params.js";
export type { ParamGroup, Optimizer, SgdOptions, AdamOptions } from "./optim.js";
export { CellLayer, Stack, Bidirectional } from "./layers.js";
export type {
  RecurrentLayer,
  SequenceOptions,
  LayerTrace,
  LayerSeeds,
  LayerGrads,
  LayerBackwardOptions,
  LayerInput,
  CellLayerOptions,
} from "./layers.js";
export {
  allocate,
  dtypeOf,
  padSequences,
  padLabels,
  maskFromLengths,
  lengthsFromMask,
  reverseWithinLengths,
  gatherLastSteps,
  scatterLastSteps,
  oneHot,
  batchify,
  sliceSteps,
  truncatedBptt,
} from "./sequence.js";
export type { PaddedBatch, PadOptions, TruncatedBpttOptions, BpttChunk } from "./sequence.js";
export {
  saveParams,
  loadParams,
  toNested,
  fromNested,
  importTorchLstm,
  importTorchGru,
} from "./serialize.js";
export type { Nested, TorchStateDict, TorchImportOptions } from "./serialize.js";
export { importLayout, exportLayout, LAYOUTS } from "./adapters.js";
export type { LayoutName, LayoutTensor, LayoutOptions } from "./adapters.js";
export { ProgressBar, fit, minibatches } from "./trainer.js";
export type { ProgressOptions, ProgressStream, Metrics, FitOptions, EpochRecord } from "./trainer.js";
export { linePlot, heatmap, niceTicks, escapeXml } from "./plot.js";
export type { Series, LinePlotOptions, HeatmapOptions } from "./plot.js";
