/**
 * Finding a Python that has PyTorch: `RNNC_PYTHON` when set (and then only it), else the system
 * Python (Debian's `python3-torch` installs there) and the `python3`/`python` on PATH, the first
 * that can `import torch`.
 */
import { spawnSync } from "node:child_process";

export interface PythonWithTorch {
  readonly path: string;
  readonly torch: string;
}

/** The interpreter to use, or why none was found. */
export function findPython(env: NodeJS.ProcessEnv = process.env): PythonWithTorch | { readonly missing: string } {
  const given = env["RNNC_PYTHON"];
  const candidates = given ? [given] : ["/usr/bin/python3", "python3", "python"];
  for (const path of candidates) {
    const run = spawnSync(path, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8", timeout: 60_000 });
    if (run.status === 0) return { path, torch: run.stdout.trim() };
  }
  const tried = candidates.join(", ");
  return { missing: `no Python with PyTorch found (tried ${tried}${given ? " from RNNC_PYTHON" : "; set RNNC_PYTHON to choose one"})` };
}
