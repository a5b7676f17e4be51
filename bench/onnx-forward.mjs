// The LSTM's forward at s2 (I32 H128 B16 T32, float32) in rnnc and in ONNX Runtime (1 thread, the
// model from `rnnc export --format onnx`), on the same params and inputs; medians of 35 calls after
// 5 warm-up calls. Run after `npm run build`: `node bench/onnx-forward.mjs`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { compile } from "../dist/src/index.js";

const [T, B, I, H] = [32, 16, 32, 128];
const dir = mkdtempSync(join(tmpdir(), "rnnc-onnx-"));
const model = join(dir, "lstm.onnx");
execFileSync(process.execPath, ["bin/rnnc.js", "export", "examples/cells/lstm.cell", "--format", "onnx", "--size", `I=${I},H=${H}`, "-o", model]);
const cell = compile(readFileSync("examples/cells/lstm.cell", "utf8"), { path: "lstm.cell", sizes: { I, H }, dtype: "f32" });
const params = cell.initParams(3);
let seed = 1;
const x = Float32Array.from({ length: T * B * I }, () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 0.2);
const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", logSeverityLevel: 3 });
const feeds = { x: new ort.Tensor("float32", x, [T, B, I]) };
for (const p of cell.params) feeds[p.name] = new ort.Tensor("float32", params[p.name], p.shape);
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const ours = [], theirs = [];
let diff = 0;
for (let k = 0; k < 40; k++) {
  let t = performance.now();
  const trace = cell.forward(params, { x }, { T, B });
  ours.push(performance.now() - t);
  t = performance.now();
  const result = await session.run(feeds);
  theirs.push(performance.now() - t);
  const h = result["h"].data;
  for (let i = 0; i < h.length; i++) diff = Math.max(diff, Math.abs(h[i] - trace.outputs["h"][i]));
}
rmSync(dir, { recursive: true, force: true });
const [a, b] = [median(ours.slice(5)), median(theirs.slice(5))];
console.log(`lstm forward s2 (I${I} H${H} B${B} T${T}, f32, one thread): rnnc ${a.toFixed(2)} ms, ONNX Runtime ${b.toFixed(2)} ms, rnnc ÷ ONNX Runtime ${(a / b).toFixed(2)}; max |Δh| ${diff.toExponential(2)}`);
