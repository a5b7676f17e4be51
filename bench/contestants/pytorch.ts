/**
 * PyTorch, one thread, in a Python process started once per run (bench/torch_driver.py, spoken to
 * with bench/torch-protocol.ts). Params are the hand-fused ones (same seed as `hand-fused` and the
 * TF.js contestants), data the workload's, both handed over as raw float files; the driver times its
 * own calls when the harness asks for a sample, so its rounds interleave with everyone else's.
 * The Python is the one examples/pytorch-ddp/python.ts finds (`RNNC_PYTHON`, else Debian's
 * /usr/bin/python3 with `python3-torch`, else `python3` on PATH).
 */

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findPython } from "../../examples/pytorch-ddp/python.js";
import { initLstmParams, type LstmParams } from "../hand-fused.js";
import { initGruParams } from "../hand-fused-gru.js";
import { Unavailable, type Contestant, type Prepared } from "../harness.js";
import { encodeRequest, expectOk, numberField, ReplyReader, type Reply, type Request } from "../torch-protocol.js";
import { inputData, PARAM_SEED, type Workload } from "../workloads.js";
import { repoRoot } from "./rnnc.js";

export const TORCH_INSTALL = "pytorch: no Python with PyTorch (install it with `apt-get install python3-torch`, or set RNNC_PYTHON to a python3 that has torch)";

/** The driver process: requests go one at a time, replies come back in order. */
export class TorchProcess {
  private readonly child: ChildProcess;
  private readonly reader = new ReplyReader();
  private readonly waiting: { req: Request; resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private stderr = "";
  private dead: Error | null = null;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), "rnnc-bench-torch-"));
  private files = 0;

  constructor(python: string) {
    const driver = path.join(repoRoot(), "bench", "torch_driver.py");
    this.child = spawn(python, ["-u", driver], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      try {
        for (const reply of this.reader.push(d)) this.waiting.shift()?.resolve(reply);
      } catch (e) {
        this.fail(e as Error);
      }
    });
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr = (this.stderr + d).slice(-2000)));
    this.child.on("error", (e) => this.fail(e));
    this.child.on("exit", (code) => this.fail(new Error(`pytorch driver exited (${code})${this.stderr ? ": " + this.stderr.trim().split("\n").pop() : ""}`)));
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  request(req: Request): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({ req, resolve, reject });
      this.child.stdin!.write(encodeRequest(req));
    }).then((reply) => expectOk(req, reply));
  }

  /** Writes `a` as a raw little-endian file in the exchange folder; returns its path. */
  file(a: Float32Array | Float64Array): string {
    const f = path.join(this.dir, `a${this.files++}.bin`);
    writeFileSync(f, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return f;
  }

  async close(): Promise<void> {
    if (!this.dead) await this.request({ cmd: "quit" }).catch(() => undefined);
    this.child.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let started: Promise<TorchProcess> | null = null;

/** The run's driver, started on first use; Unavailable when no Python has torch. */
export function torchProcess(): Promise<TorchProcess> {
  started ??= (async () => {
    const python = findPython();
    if (!("path" in python)) throw new Unavailable(TORCH_INSTALL);
    const p = new TorchProcess(python.path);
    await p.request({ cmd: "hello" });
    return p;
  })();
  return started;
}

/** Ends the driver if one was started (at the end of a run). */
export async function closeTorch(): Promise<void> {
  if (started === null) return;
  const p = await started.catch(() => null);
  started = null;
  await p?.close();
}

/** The version line for the bench's header, or why PyTorch is skipped. */
export async function describeTorch(): Promise<string> {
  try {
    const p = await torchProcess();
    const hello = await p.request({ cmd: "hello" });
    const blas = String(hello["blas"]);
    const reference = !/openblas|mkl|blis/i.test(blas);
    return `PyTorch ${String(hello["torch"])}, ${String(hello["threads"])} thread (torch.set_num_threads(1)); BLAS ${blas}` +
      (reference ? `\n  warning: PyTorch runs on the reference BLAS, many times slower than OpenBLAS: apt-get install libopenblas0-pthread` : "");
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

let keys = 0;

/** Hands the workload to the driver; the params are the hand-fused ones at PARAM_SEED. */
export async function prepareTorch(w: Workload, p: LstmParams, x: Float32Array | Float64Array, dtype: "f32" | "f64", dY?: Float32Array | Float64Array): Promise<{ proc: TorchProcess; key: string }> {
  const proc = await torchProcess();
  const key = `${w.id}#${keys++}`;
  const files = { W: proc.file(p.W as Float32Array | Float64Array), b: proc.file(p.b as Float32Array | Float64Array), x: proc.file(x), ...(dY ? { dY: proc.file(dY) } : {}) };
  await proc.request({ cmd: "prepare", key, cell: w.cell, kind: w.kind, I: w.I, H: w.H, B: w.B, T: w.T, dtype, files });
  return { proc, key };
}

export const pytorch: Contestant = {
  id: "pytorch",
  label: "PyTorch 1 thread",
  unsupported: (w) => (w.cell === "gru" && w.kind === "step" ? "pytorch: no GRU step workload" : null),
  async prepare(w: Workload): Promise<Prepared> {
    const params = (w.cell === "lstm" ? initLstmParams : initGruParams)(w.I, w.H, PARAM_SEED);
    const { proc, key } = await prepareTorch(w, params, inputData(w), "f32");
    return {
      async sample(reps) {
        const req = { cmd: "time", key, reps } as const;
        return numberField(req, await proc.request(req), "seconds");
      },
      async rss() {
        const req = { cmd: "rss" } as const;
        return numberField(req, await proc.request(req), "rss");
      },
      dispose: () => void proc.request({ cmd: "dispose", key }).catch(() => undefined),
    };
  },
};
