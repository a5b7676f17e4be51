# Checks of exported modules inside PyTorch, for tests/pytorch.test.ts. argv: the exported
# lstm.cell and gru_torch.cell modules, and a scratch directory. Prints a JSON object:
# - "lstm"/"gru": the largest difference between nn.LSTM/nn.GRU and the exported sequence module
#   after from_torch_state_dict, and after to_torch_state_dict back into a fresh nn.LSTM/nn.GRU;
# - "errors": the message of each malformed params file or state_dict, by case.
import importlib.util
import json
import os
import sys

import torch


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layout_roundtrip(module, torch_class):
    torch.manual_seed(0)
    I, H = module.Cell.INPUTS[0][1], module.Cell.STATES[0][1]
    reference = torch_class(I, H, dtype=torch.float64)
    cell = module.Sequence(torch.float64)
    module.from_torch_state_dict(cell, reference.state_dict())
    x = torch.randn(5, 3, I, dtype=torch.float64)
    h0 = torch.randn(3, H, dtype=torch.float64)
    initial = {"h": h0}
    if torch_class is torch.nn.LSTM:
        c0 = torch.randn(3, H, dtype=torch.float64)
        initial["c"] = c0
        want, (hn, cn) = reference(x, (h0[None], c0[None]))
    else:
        want, hn = reference(x, h0[None])
    outputs, final = cell(x, initial=initial)
    into = (outputs["h"] - want).abs().max().item()
    fresh = torch_class(I, H, dtype=torch.float64)
    fresh.load_state_dict(module.to_torch_state_dict(cell))
    back = fresh(x, (h0[None], c0[None]) if torch_class is torch.nn.LSTM else h0[None])[0]
    return {"into": into, "back": (back - want).abs().max().item(), "final": (final["h"] - hn[0]).abs().max().item()}


def error_of(run):
    try:
        run()
    except ValueError as e:
        return str(e)
    return None


def errors(module, scratch):
    cell = module.Sequence(torch.float64)
    good = json.loads(module.rnnc_params_json(cell))
    cases = {}

    def with_file(name, text):
        path = os.path.join(scratch, f"{name}.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        cases[name] = error_of(lambda: module.load_rnnc_params(cell, path))

    def edit(name, change):
        document = json.loads(json.dumps(good))
        change(document["groups"]["lstm"])
        with_file(name, json.dumps(document))

    with_file("malformed", "{")
    with_file("nan", json.dumps(good).replace("]", ", NaN]", 1))
    edit("missing", lambda g: g.pop("Uf"))
    edit("unknown", lambda g: g.update(Ux=[1.0]))
    edit("rows", lambda g: g["Wf"].pop())
    edit("bool", lambda g: g["bf"].__setitem__(3, True))
    edit("string", lambda g: g["bf"].__setitem__(0, "1"))
    with_file("version", json.dumps({**good, "version": 2}))
    with_file("groups", json.dumps({**good, "groups": {"a": {}, "b": {}}}))
    before = [p.detach().clone() for p in cell.parameters()]
    cases["unchanged"] = all(torch.equal(a, b) for a, b in zip(before, cell.parameters()))
    state = module.to_torch_state_dict(cell)
    cases["state_shape"] = error_of(lambda: module.from_torch_state_dict(cell, {**state, "weight_hh_l0": state["weight_hh_l0"][1:]}))
    cases["state_missing"] = error_of(lambda: module.from_torch_state_dict(cell, {k: v for k, v in state.items() if k != "bias_ih_l0"}))
    cases["state_dtype"] = error_of(lambda: module.from_torch_state_dict(cell, {**state, "bias_hh_l0": state["bias_hh_l0"].long()}))
    inf = module.Sequence(torch.float64)
    with torch.no_grad():
        inf.Uo[1, 2] = float("inf")
    cases["save_inf"] = error_of(lambda: module.rnnc_params_json(inf))
    cases["input_shape"] = error_of(lambda: cell(torch.zeros(2, 3, 7, dtype=torch.float64)))
    cases["initial_name"] = error_of(lambda: cell(torch.zeros(2, 3, 8, dtype=torch.float64), initial={"k": None}))
    return cases


lstm = load_module(sys.argv[1], "lstm_module")
gru = load_module(sys.argv[2], "gru_module")
print(json.dumps({
    "lstm": layout_roundtrip(lstm, torch.nn.LSTM),
    "gru": layout_roundtrip(gru, torch.nn.GRU),
    "errors": errors(lstm, sys.argv[3]),
}))
