/**
 * `rnnc export` as the CLI lists it: its options with their help. The job is `exportCommand` in
 * `export.ts`, loaded when the command runs (it needs the whole compiler); a test keeps the two
 * option tables equal.
 */
import { OPT, type CommandEntry } from "./commands.js";

export const exportEntry: CommandEntry = {
  name: "export",
  args: "FILE.cell",
  summary: "Export a cell's forward over a batch of sequences as a model file (ONNX) or a Python module (PyTorch)",
  details: "Exit codes: 0 written, 1 an error in the cell, its params or a file, 2 usage.",
  options: {
    format: { type: "string", value: "onnx|pytorch", help: "the model format (required)" },
    cell: OPT.cell,
    size: OPT.size,
    dtype: { ...OPT.dtype, help: "float32 or float64 model (default f32)" },
    params: { type: "string", value: "FILE", help: "take the params from a params file (saveParams): constants of the model, initial values of the module" },
    group: { type: "string", value: "NAME", help: "the params file's group holding the cell's params" },
    "initial-states": { type: "string", value: "optional|required", help: "ONNX: whether the model's initial states may be left out (default optional)" },
    out: { type: "string", short: "o", value: "FILE", help: "where the model goes (default CELL.onnx, or CELL.py)" },
  },
  async run(files, flags, ctx) {
    const { exportCommand } = await import("./export.js");
    return exportCommand.run(files, flags, ctx);
  },
};
