import { loadCell } from "./common.js";
import { CellLayer } from "../src/train/index.js";
const [file, H, I, T, B, dtype] = [process.argv[2]!, +process.argv[3]!, +process.argv[4]!, +process.argv[5]!, +process.argv[6]!, (process.argv[7] ?? "f32") as "f32"|"f64"];
let t0 = performance.now();
const cell = loadCell(file, { I, H }, dtype);
console.log("compile", ((performance.now() - t0)/1000).toFixed(2), "s; outputs", cell.outputs.map(o => o.name), "states", cell.states.map(s=>s.name));
const layer = new CellLayer(cell, { init: { seed: 1 } });
const x = dtype === "f32" ? new Float32Array(T*B*I) : new Float64Array(T*B*I);
for (let i = 0; i < x.length; i++) x[i] = Math.random();
const dy = dtype === "f32" ? new Float32Array(T*B*H) : new Float64Array(T*B*H); dy.fill(0.01);
for (let r = 0; r < 3; r++) { const tr = layer.forward(x, { T, B }); layer.backward(tr, { output: dy }); }
t0 = performance.now(); const n = 10;
for (let r = 0; r < n; r++) { const tr = layer.forward(x, { T, B }); layer.backward(tr, { output: dy }); }
const ms = (performance.now() - t0) / n;
console.log(`${file} H=${H} I=${I} T=${T} B=${B} ${dtype}: ${ms.toFixed(1)} ms per fwd+bwd, ${(ms*1000/(T*B)).toFixed(2)} us per step-sample`);
