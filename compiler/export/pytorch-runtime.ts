/**
 * The Python every exported module carries after its classes: running a step over sequences,
 * rnnc's params JSON both ways (JSON only, never pickle), and, for cells with the params of the
 * built-in LSTM or GRU, `nn.LSTM`/`nn.GRU` state_dict layouts both ways. Fixed text: nothing of a
 * cell reaches it (the classes hand it their names as data).
 */
export const PYTHON_RUNTIME = String.raw`
def softplus(a):
    """log(1 + exp(a)) as rnnc computes it: no overflow, and no NaN in its gradient."""
    return torch.clamp(a, min=0) + torch.log1p(torch.exp(-torch.abs(a)))


def run_sequence(cell, step, inputs, initial=None, mask=None):
    """Runs step over time. Each input is [T, B, n]; initial maps state names to [B, n] (zeros where
    absent); mask is [T, B], nonzero for a real step and 0 for padding, where each state is carried
    through unchanged and the outputs are zero. Returns ({output: [T, B, ...]}, {state: [B, n]})."""
    first = inputs[0]
    if first.dim() != 3 or first.shape[0] < 1 or first.shape[1] < 1:
        raise ValueError(f"input {cell.INPUTS[0][0]!r}: expected a tensor [T, B, n] with T, B >= 1, got shape {list(first.shape)}")
    T, B = first.shape[0], first.shape[1]
    for (name, size), x in zip(cell.INPUTS, inputs):
        if tuple(x.shape) != (T, B, size):
            raise ValueError(f"input {name!r}: expected shape [T, B, {size}] = {[T, B, size]}, got {list(x.shape)}")
    initial = {} if initial is None else dict(initial)
    known = [name for name, _ in cell.STATES]
    for name in initial:
        if name not in known:
            raise ValueError(f"initial: unknown state {name!r} (expected {', '.join(known) or 'none'})")
    states = []
    for name, size in cell.STATES:
        state = initial.get(name)
        if state is None:
            state = first.new_zeros(B, size)
        elif tuple(state.shape) != (B, size):
            raise ValueError(f"initial {name!r}: expected shape [B, {size}] = {[B, size]}, got {list(state.shape)}")
        states.append(state)
    if mask is not None and tuple(mask.shape) != (T, B):
        raise ValueError(f"mask: expected shape [T, B] = {[T, B]}, got {list(mask.shape)}")
    steps = [[] for _ in cell.OUTPUTS]
    for t in range(T):
        outputs, new = step(*(x[t] for x in inputs), *states)
        if mask is not None:
            keep = mask[t] != 0
            new = [torch.where(keep[:, None], n, s) for n, s in zip(new, states)]
            outputs = [torch.where(keep.reshape((B,) + (1,) * (y.dim() - 1)), y, torch.zeros_like(y)) for y in outputs]
        states = list(new)
        for k, y in enumerate(outputs):
            steps[k].append(y)
    outputs = {name: torch.stack(ys) for (name, _), ys in zip(cell.OUTPUTS, steps)}
    return outputs, {name: state for (name, _), state in zip(cell.STATES, states)}


def save_rnnc_params(module, path, group=None):
    """Writes the module's params to path as rnnc's params JSON (what rnnc's saveParams writes and
    loadParams reads), in the group named after the cell unless another is given."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(rnnc_params_json(module, group) + "\n")


def rnnc_params_json(module, group=None):
    """The module's params as rnnc's params JSON text."""
    group = module.NAME if group is None else group
    values = {}
    for name, shape in module.PARAMS:
        data = module._parameters[name].detach().to(device="cpu", dtype=torch.float64)
        bad = (~torch.isfinite(data)).nonzero()
        if len(bad):
            index = "".join(f"[{i}]" for i in bad[0].tolist())
            raise ValueError(f"cannot save '{group}.{name}{index}': {data[tuple(bad[0].tolist())].item()} is not a finite number (JSON cannot hold it)")
        values[name] = data.tolist()
    return json.dumps({"format": "rnnc-params", "version": 1, "groups": {group: values}}, allow_nan=False)


def load_rnnc_params(module, path, group=None):
    """Reads rnnc's params JSON from path into the module: the group given, else the one named after
    the cell, else the file's only group. Every name, shape and number is checked before anything is
    written; a ValueError names the offending field."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rnnc_params_from_json(module, text, group, where=path)


def rnnc_params_from_json(module, text, group=None, where="params"):
    """Reads rnnc's params JSON text into the module (see load_rnnc_params)."""

    def fail(message):
        raise ValueError(f"{where}: {message}")

    def no_constant(name):
        fail(f"{name} is not a JSON number")

    try:
        document = json.loads(text, parse_constant=no_constant)
    except (json.JSONDecodeError, RecursionError) as e:
        fail(f"malformed JSON: {e}")
    if not isinstance(document, dict) or document.get("format") != "rnnc-params":
        fail("'format' should be \"rnnc-params\"")
    version = document.get("version")
    if type(version) not in (int, float) or version != 1:
        fail(f"'version' {json.dumps(version)} is not supported (expected 1)")
    groups = document.get("groups")
    if not isinstance(groups, dict):
        fail("'groups' should be an object")
    if group is None:
        group = module.NAME if module.NAME in groups else next(iter(groups)) if len(groups) == 1 else None
        if group is None:
            fail(f"choose the group holding cell {module.NAME!r} (groups: {', '.join(groups) or 'none'})")
    if group not in groups:
        fail(f"no group {group!r} (groups: {', '.join(groups) or 'none'})")
    saved = groups[group]
    if not isinstance(saved, dict):
        fail(f"group {group!r} should be an object of params")
    names = [name for name, _ in module.PARAMS]
    for name in names:
        if name not in saved:
            fail(f"group {group!r}: missing param {name!r} (expected {', '.join(names)})")
    for name in saved:
        if name not in names:
            fail(f"group {group!r}: unknown param {name!r} (expected {', '.join(names)})")
    values = {}
    for name, shape in module.PARAMS:
        float32 = module._parameters[name].dtype != torch.float64
        values[name] = _flatten(saved[name], shape, f"{group}.{name}", fail, float32)
    with torch.no_grad():
        for name, shape in module.PARAMS:
            param = module._parameters[name]
            param.copy_(torch.tensor(values[name], dtype=torch.float64).reshape(shape))


def _flatten(value, shape, field, fail, float32):
    """Nested lists checked against shape, flattened row-major."""
    flat = []

    def visit(node, axis, path):
        if axis == len(shape):
            number = None
            if type(node) in (int, float):
                try:
                    number = float(node)
                except OverflowError:
                    pass
            if number is None or not math.isfinite(number):
                fail(f"'{path}' should be a finite number, got {json.dumps(node)[:40]}")
            if float32 and abs(number) >= 3.4028235677973366e38:
                fail(f"'{path}' is {number}, beyond the float32 range of these params")
            flat.append(number)
            return
        if not isinstance(node, list):
            fail(f"'{path}' should be a list of {shape[axis]} (shape {list(shape)}), got {type(node).__name__}")
        if len(node) != shape[axis]:
            fail(f"'{path}' has {len(node)} entries, expected {shape[axis]} (shape {list(shape)})")
        for i, child in enumerate(node):
            visit(child, axis + 1, f"{path}[{i}]")

    visit(value, 0, field)
    return flat


def to_torch_state_dict(module, suffix="_l0"):
    """The params as a state_dict of torch.nn.LSTM or torch.nn.GRU (module.TORCH_LAYOUT names which),
    gates stacked in PyTorch's order. An LSTM's bias goes to bias_ih, bias_hh is zero."""
    layout = _layout(module)
    stack = lambda names: torch.cat([module._parameters[n].detach() for n in names], dim=0).clone()
    state = {f"{key}{suffix}": stack(layout[key]) for key in ("weight_ih", "weight_hh", "bias_ih")}
    hh = layout["bias_hh"]
    state[f"bias_hh{suffix}"] = stack(hh) if hh else torch.zeros_like(state[f"bias_ih{suffix}"])
    return state


def from_torch_state_dict(module, state_dict, suffix="_l0"):
    """Copies a torch.nn.LSTM or torch.nn.GRU state_dict (one layer and direction: suffix) into the
    params; an LSTM's two biases are summed. Every key, shape and dtype is checked first."""
    layout = _layout(module)
    H, I = module._parameters[layout["weight_ih"][0]].shape
    G = len(layout["weight_ih"])
    shapes = {"weight_ih": (G * H, I), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
    blocks = {}
    for key, shape in shapes.items():
        name = key + suffix
        if name not in state_dict:
            raise ValueError(f"state_dict: missing {name!r} (expected {', '.join(k + suffix for k in shapes)})")
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise ValueError(f"state_dict[{name!r}]: expected a floating-point tensor, got {getattr(tensor, 'dtype', type(tensor).__name__)}")
        if tuple(tensor.shape) != shape:
            raise ValueError(f"state_dict[{name!r}]: expected shape {list(shape)}, got {list(tensor.shape)}")
        blocks[key] = torch.split(tensor.detach().to(torch.float64), H, dim=0)
    if not layout["bias_hh"]:
        blocks["bias_ih"] = [a + b for a, b in zip(blocks["bias_ih"], blocks["bias_hh"])]
    with torch.no_grad():
        for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            for name, block in zip(layout[key] or (), blocks[key]):
                module._parameters[name].copy_(block)


def _layout(module):
    if module.TORCH_LAYOUT is None:
        raise ValueError(f"cell {module.NAME!r} does not have the params of the built-in LSTM or GRU")
    return module.TORCH_LAYOUT
`;
