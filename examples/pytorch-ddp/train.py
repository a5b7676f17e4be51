# Trains a cell exported by rnnc in PyTorch with DistributedDataParallel: two processes on this
# machine (torch.multiprocessing), gloo backend, each on its half of every epoch's batches, the
# gradients averaged across both at every step. Run by main.ts, which prepares WORK:
#   WORK/cell.py       the exported module (its params start as rnnc initialized them)
#   WORK/initial.json  rnnc's params JSON: the cell's group and the dense head's ("head": W, b)
#   WORK/data.json     windows of the seed task, train and held-out test, time-major
# and reads back:
#   WORK/trained.json  the trained params, rnnc's params JSON (both groups)
#   WORK/torch.json    PyTorch's outputs on the held-out data (every step's h, the predictions)
#
#   python train.py WORK EPOCHS LR SEED
import importlib.util
import json
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

WORLD = 2
BATCH = 32


def load_exported(path):
    spec = importlib.util.spec_from_file_location("exported_cell", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Model(nn.Module):
    """The exported cell over a window, and a dense head on its last h."""

    def __init__(self, exported, initial):
        super().__init__()
        self.cell = exported.Sequence(torch.float64)
        W, b = initial["groups"]["head"]["W"], initial["groups"]["head"]["b"]
        self.head = nn.Linear(len(W[0]), len(W), dtype=torch.float64)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor(W, dtype=torch.float64))
            self.head.bias.copy_(torch.tensor(b, dtype=torch.float64))

    def forward(self, x):
        outputs, _ = self.cell(x)
        return self.head(outputs["h"][-1]), outputs["h"]


def windows(part, T, features):
    x = torch.tensor(part["x"], dtype=torch.float64).reshape(T, -1, features)
    y = torch.tensor(part["y"], dtype=torch.float64).reshape(-1, features)
    return x, y


def worker(rank, work, epochs, lr, seed, port):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=WORLD)
    exported = load_exported(os.path.join(work, "cell.py"))
    with open(os.path.join(work, "initial.json"), encoding="utf-8") as f:
        initial = json.load(f)
    with open(os.path.join(work, "data.json"), encoding="utf-8") as f:
        data = json.load(f)
    T, features = data["T"], data["features"]
    model = Model(exported, initial)
    ddp = DistributedDataParallel(model)
    optimizer = torch.optim.Adam(ddp.parameters(), lr=lr)
    x, y = windows(data["train"], T, features)
    dataset = TensorDataset(x.transpose(0, 1), y)  # batch-major for the loader
    sampler = DistributedSampler(dataset, num_replicas=WORLD, rank=rank, shuffle=True, seed=seed)
    loader = DataLoader(dataset, batch_size=BATCH, sampler=sampler)
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            prediction, _ = ddp(xb.transpose(0, 1).contiguous())
            loss = nn.functional.mse_loss(prediction, yb)
            loss.backward()
            optimizer.step()
            total, count = total + loss.item() * len(yb), count + len(yb)
        say(f"rank {rank} epoch {epoch + 1} loss {total / count:.8f}")
    # DDP keeps the replicas equal: every param of rank 1 is rank 0's, bit for bit.
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    gathered = [torch.empty_like(flat) for _ in range(WORLD)]
    dist.all_gather(gathered, flat)
    if rank == 0:
        say(f"replicas identical after training: {all(torch.equal(g, gathered[0]) for g in gathered)}")
        save(model, exported, work, data, T, features)
    dist.barrier()
    dist.destroy_process_group()


def save(model, exported, work, data, T, features):
    document = json.loads(exported.rnnc_params_json(model.cell))
    document["groups"]["head"] = {"W": model.head.weight.tolist(), "b": model.head.bias.tolist()}
    with open(os.path.join(work, "trained.json"), "w", encoding="utf-8") as f:
        json.dump(document, f, allow_nan=False)
    x, y = windows(data["test"], T, features)
    with torch.no_grad():
        prediction, h = model(x)
    result = {
        "h": h.reshape(-1).tolist(),
        "prediction": prediction.reshape(-1).tolist(),
        "mse": nn.functional.mse_loss(prediction, y).item(),
    }
    with open(os.path.join(work, "torch.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)


def say(line):
    """One line in one write, so the two processes' lines never interleave."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    work, epochs, lr, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    mp.spawn(worker, args=(work, epochs, lr, seed, free_port()), nprocs=WORLD, join=True)
