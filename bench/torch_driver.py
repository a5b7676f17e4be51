"""The bench's PyTorch contestant (bench/contestants/pytorch.ts starts it once per run).

One thread (torch.set_num_threads(1), set_num_interop_threads(1)). Reads one JSON request per line
on stdin and answers one JSON line on stdout; arrays come and go as raw little-endian files (see
bench/torch-protocol.ts for the protocol). Timing is done here, with time.perf_counter_ns around
`reps` back-to-back calls, when the harness asks for a sample, so the rounds interleave with the
other contestants as they do in Node. The first sample of a workload makes one untimed call first:
PyTorch's first call of a shape is many times slower than the next (lazy set-up).

Workloads (params in the bench's fused layout: W [G*H, I+H] with row blocks i, f, g, o for the
LSTM and u, r, n for the GRU, x columns then h columns; b [G*H]):
- lstm train: zero the grads, nn.LSTM over [T, B, I] from zero states, backward with
  dLoss/dh[t] = 1, grads of every param and of x.
- lstm forward: nn.LSTM under torch.inference_mode().   - lstm step: nn.LSTMCell, inference mode.
- gru train/forward: gru.cell's GRU (the reset gate multiplies h before W_h, unlike nn.GRU) written
  with torch ops: the input projection of all steps as one product, per step one addmm for u and r
  and one for the candidate; autograd for the backward.
"""

import json
import os
import resource
import sys
import time

# One thread for OpenBLAS and OpenMP too; both read these when they load, so before torch does.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # only allowed before any inter-op work; harmless if already 1
    pass

DTYPES = {"f32": (np.float32, torch.float32), "f64": (np.float64, torch.float64)}


def load(path, dtype, shape):
    a = np.fromfile(path, dtype=DTYPES[dtype][0])
    expected = int(np.prod(shape))
    if a.size != expected:
        raise ValueError(f"{path}: {a.size} numbers, expected {expected} for shape {list(shape)}")
    return torch.from_numpy(a.reshape(shape))


def save(path, t):
    t.detach().contiguous().numpy().tofile(path)


class Lstm:
    warm = False

    def __init__(self, req, W, b, x, seed):
        I, H, kind = req["I"], req["H"], req["kind"]
        self.kind = kind
        dt = W.dtype
        if kind == "step":
            self.net = torch.nn.LSTMCell(I, H).to(dt)
        else:
            self.net = torch.nn.LSTM(I, H).to(dt)
        with torch.no_grad():
            ps = dict(self.net.named_parameters())
            w_ih = ps.get("weight_ih_l0", ps.get("weight_ih"))
            w_hh = ps.get("weight_hh_l0", ps.get("weight_hh"))
            b_ih = ps.get("bias_ih_l0", ps.get("bias_ih"))
            b_hh = ps.get("bias_hh_l0", ps.get("bias_hh"))
            w_ih.copy_(W[:, :I])
            w_hh.copy_(W[:, I:])
            b_ih.copy_(b)
            b_hh.zero_()
        self.I, self.H = I, H
        self.x = x.clone().requires_grad_(kind == "train")
        B = req["B"]
        if kind == "step":
            self.x0 = x[0].clone()
            self.state = (torch.zeros(B, H, dtype=dt), torch.zeros(B, H, dtype=dt))
        self.seed = seed

    def run(self):
        if self.kind == "train":
            self.net.zero_grad(set_to_none=True)
            self.x.grad = None
            out, _ = self.net(self.x)
            out.backward(self.seed)
        elif self.kind == "forward":
            with torch.inference_mode():
                self.net(self.x)
        else:
            with torch.inference_mode():
                self.state = self.net(self.x0, self.state)

    def results(self):
        out, _ = self.net(self.x)
        return out, self.grads_after(out)

    def grads_after(self, out):
        self.net.zero_grad(set_to_none=True)
        self.x.grad = None
        out.backward(self.seed)
        ps = dict(self.net.named_parameters())
        dW = torch.cat([ps["weight_ih_l0"].grad, ps["weight_hh_l0"].grad], dim=1)
        return dW, ps["bias_ih_l0"].grad, self.x.grad


class Gru:
    warm = False

    def __init__(self, req, W, b, x, seed):
        if req["kind"] == "step":
            raise ValueError("no GRU step workload")
        self.kind = req["kind"]
        self.I, self.H = req["I"], req["H"]
        self.W = W.clone().requires_grad_(True)
        self.b = b.clone().requires_grad_(True)
        self.x = x.clone().requires_grad_(self.kind == "train")
        self.seed = seed

    def forward(self):
        I, H = self.I, self.H
        T, B = self.x.shape[0], self.x.shape[1]
        Wx, Wur, Wn = self.W[:, :I], self.W[: 2 * H, I:], self.W[2 * H :, I:]
        xp = torch.addmm(self.b, self.x.reshape(T * B, I), Wx.t()).reshape(T, B, 3 * H)
        h = torch.zeros(B, H, dtype=self.W.dtype)
        outs = []
        for t in range(T):
            ur = torch.sigmoid(torch.addmm(xp[t, :, : 2 * H], h, Wur.t()))
            u, r = ur[:, :H], ur[:, H:]
            n = torch.tanh(torch.addmm(xp[t, :, 2 * H :], r * h, Wn.t()))
            h = h + u * (n - h)
            outs.append(h)
        return torch.stack(outs)

    def run(self):
        if self.kind == "train":
            self.W.grad = self.b.grad = self.x.grad = None
            self.forward().backward(self.seed)
        else:
            with torch.inference_mode():
                self.forward()

    def results(self):
        out = self.forward()
        self.W.grad = self.b.grad = self.x.grad = None
        out.backward(self.seed)
        return out, (self.W.grad, self.b.grad, self.x.grad)


def prepare(req):
    I, H, B, T, dtype = req["I"], req["H"], req["B"], req["T"], req["dtype"]
    G = 4 if req["cell"] == "lstm" else 3
    f = req["files"]
    W = load(f["W"], dtype, (G * H, I + H))
    b = load(f["b"], dtype, (G * H,))
    x = load(f["x"], dtype, (T, B, I))
    # dLoss/dh[t]: ones (loss = sum of all outputs) unless a file gives it
    seed = load(f["dY"], dtype, (T, B, H)) if "dY" in f else torch.ones(T, B, H, dtype=W.dtype)
    return (Lstm if req["cell"] == "lstm" else Gru)(req, W, b, x, seed)


def blas_library():
    """The BLAS this process loaded (Debian picks it with update-alternatives: the reference libblas3
    is many times slower than OpenBLAS at these sizes)."""
    with open("/proc/self/maps") as f:
        libs = sorted({os.path.realpath(line.split()[-1]) for line in f if "blas" in line.lower() and "/" in line})
    fast = [lib for lib in libs if os.path.basename(lib).startswith(("libopenblas", "libmkl", "libblis"))]
    return os.path.basename(fast[0]) if fast else ", ".join(libs) or "unknown"


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def main():
    prepared = {}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        cmd = req.get("cmd")
        try:
            if cmd == "hello":
                reply = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library()}
            elif cmd == "prepare":
                prepared[req["key"]] = prepare(req)
                reply = {}
            elif cmd == "time":
                w, reps = prepared[req["key"]], int(req["reps"])
                if not w.warm:  # PyTorch's first call of a shape is many times slower (lazy set-up)
                    w.run()
                    w.warm = True
                t0 = time.perf_counter_ns()
                for _ in range(reps):
                    w.run()
                reply = {"seconds": (time.perf_counter_ns() - t0) / 1e9 / reps}
            elif cmd == "outputs":
                w, d = prepared[req["key"]], req["dir"]
                out, (dW, db, dx) = w.results()
                files = {k: f"{d}/torch-{k}.bin" for k in ("h", "dW", "db", "dx")}
                for k, t in zip(("h", "dW", "db", "dx"), (out, dW, db, dx)):
                    save(files[k], t)
                reply = {"files": files}
            elif cmd == "rss":
                reply = {"rss": rss_bytes(), "maxRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
            elif cmd == "dispose":
                prepared.pop(req["key"], None)
                reply = {}
            elif cmd == "quit":
                print(json.dumps({"ok": True}), flush=True)
                return
            else:
                raise ValueError(f"unknown command {cmd!r}")
            reply["ok"] = True
        except Exception as e:  # reported to the bench, which names the request
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
