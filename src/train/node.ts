/**
 * The training runtime for Node: everything `rnnc/train` exports, plus the functions that touch
 * the file system. `rnnc/train` itself uses no Node built-in, so it also runs in a browser bundle.
 */

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { ParamGroup } from "./optim.js";
import { loadParams, saveParams } from "./serialize.js";

export * from "./index.js";

/** Writes the params of `groups` to `path` as JSON (`saveParams`). */
export function saveParamsFile(path: string, groups: readonly ParamGroup[]): void {
  writeFileSync(path, saveParams(groups) + "\n");
}

/** Reads a params file written by `saveParamsFile` into `groups` (`loadParams`: all checked first). */
export function loadParamsFile(path: string, groups: readonly ParamGroup[]): void {
  loadParams(readFileSync(path, "utf8"), groups);
}

/** Writes an SVG string (`linePlot`, `heatmap`) to `path`, creating its directory. */
export function writeSvg(path: string, svg: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
