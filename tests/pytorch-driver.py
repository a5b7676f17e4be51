# Runs exported cells in PyTorch (float64) for tests/pytorch.test.ts: one process for many cases.
# Reads a JSON job (argv[1]): a list of cases, each an exported module, params saved by rnnc, inputs,
# initial states, a mask, and the loss's seeds (dLoss/d output, dLoss/d final state). For each case:
# loads the params with load_rnnc_params, runs the sequence module, backpropagates
# loss = sum(outputs * output seeds) + sum(final * final seeds) with autograd, saves the params
# back with save_rnnc_params, and reports outputs, final states and every gradient (flat lists).
import importlib.util
import json
import math
import sys
import traceback

import torch


def flat(tensor):
    return [v if math.isfinite(v) else str(v) for v in tensor.detach().reshape(-1).tolist()]


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(case, k):
    module = load_module(case["module"], f"cell_{k}")
    cell = module.Sequence(torch.float64)
    module.load_rnnc_params(cell, case["paramsFile"])
    T, B = case["T"], case["B"]
    inputs = [torch.tensor(case["inputs"][name], dtype=torch.float64).reshape(T, B, n).requires_grad_() for name, n in cell.INPUTS]
    initial = {name: torch.tensor(case["initial"][name], dtype=torch.float64).reshape(B, n).requires_grad_() for name, n in cell.STATES}
    mask = None if case["mask"] is None else torch.tensor(case["mask"], dtype=torch.uint8).reshape(T, B)
    outputs, final = cell(*inputs, initial=initial, mask=mask)
    loss = torch.zeros((), dtype=torch.float64)
    for name, shape in cell.OUTPUTS:
        seed = torch.tensor(case["outputGrads"][name], dtype=torch.float64).reshape(outputs[name].shape)
        loss = loss + (outputs[name] * seed).sum()
    for name, n in cell.STATES:
        loss = loss + (final[name] * torch.tensor(case["finalGrads"][name], dtype=torch.float64).reshape(B, n)).sum()
    params = [cell._parameters[name] for name, _ in cell.PARAMS]
    wrt = params + inputs + list(initial.values())
    grads = torch.autograd.grad(loss, wrt, allow_unused=True) if loss.requires_grad else [None] * len(wrt)
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(wrt, grads)]
    module.save_rnnc_params(cell, case["savedFile"])
    names = [name for name, _ in cell.PARAMS]
    return {
        "outputs": {name: flat(y) for name, y in outputs.items()},
        "final": {name: flat(s) for name, s in final.items()},
        "params": {name: flat(g) for name, g in zip(names, grads)},
        "inputs": {name: flat(g) for (name, _), g in zip(cell.INPUTS, grads[len(params):])},
        "initial": {name: flat(g) for (name, _), g in zip(cell.STATES, grads[len(params) + len(inputs):])},
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    results = []
    for k, case in enumerate(cases):
        try:
            results.append(run(case, k))
        except Exception:
            results.append({"error": traceback.format_exc()})
    json.dump(results, sys.stdout)


main()
