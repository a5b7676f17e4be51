/**
 * A cell's forward over a batch of sequences as an ONNX model: one `Scan` over time whose body is
 * the step's recurrent part, after the optimizing passes.
 *
 * Every forward node goes to one of three places, by the decisions `planKernels` makes for rnnc's
 * own kernels:
 * - fixed (params, constants and what is computed from them only): once, in the main graph;
 * - hoisted (varying, but not reading a state: the input products `W·x`): in the main graph, for
 *   all T·B rows at once, then handed to the scan as scan inputs `[T, B, ...]`;
 * - recurrent (reading a state): in the scan body, per step, on `[B, ...]`.
 *
 * Model interface, with `T` and `B` symbolic: each input `[T, B, n]`; each param, when no values are
 * given, an input of its declared shape (else an initializer); each state's initial value
 * `initial_<state>` `[B, n]` (or `[1, n]`, broadcast over the batch); each output `[T, B, n]`; each
 * state's final value `final_<state>` `[B, n]`.
 *
 * Initial states are optional by default: each input has a zero initializer `[1, n]` of the same
 * name, which ONNX makes its default value (an "overridable initializer"). Runtimes that feed only
 * the inputs proper (ONNX Runtime's JavaScript bindings list no overridable initializer among a
 * session's inputs) cannot pass them then; `initialStates: "required"` makes them plain inputs.
 */
import { planKernels, type KernelPlan } from "../codegen/plan.js";
import { type CellIR, forwardRoots, liveNodes } from "../ir/cell.js";
import { sizeOf, type NodeId } from "../ir/graph.js";
import { onnxLowering, type OnnxArg } from "./onnx-ops.js";
import { Scope } from "./onnx-scope.js";
import {
  encodeModel, graph, model, tensor, valueInfo, type ModelProto, type TensorProto, type ValueInfoProto,
} from "./onnx-proto.js";

export interface OnnxOptions {
  readonly dtype?: "f32" | "f64";
  /** Param values by name, row-major; without them, params are inputs of the model. */
  readonly params?: Readonly<Record<string, ArrayLike<number>>>;
  readonly producerVersion?: string;
  /** Where the cell comes from, for the model's description. */
  readonly sourcePath?: string;
  /** Initial states as inputs with a zero default ("optional", the default), or without one. */
  readonly initialStates?: "optional" | "required";
}

/** Names of a state's initial and final values among the model's inputs and outputs. */
export const initialName = (state: string): string => `initial_${state}`;
export const finalName = (state: string): string => `final_${state}`;

/** The ONNX model of `ir`'s forward, encoded. */
export function exportOnnx(ir: CellIR, options: OnnxOptions = {}): Uint8Array {
  return encodeModel(buildOnnx(ir, options));
}

export function buildOnnx(ir: CellIR, options: OnnxOptions = {}): ModelProto {
  if (ir.inputs.length === 0) throw new Error(`cell '${ir.name}' has no input: an ONNX model takes T and B from its inputs`);
  checkNames(ir);
  return new Exporter(ir, options).build();
}

type Place = "fixed" | "rows" | "body";

class Exporter {
  private readonly dtype: "f32" | "f64";
  private readonly plan: KernelPlan;
  private readonly main: Scope;
  private readonly body: Scope;
  private readonly mainValue = new Map<NodeId, string>();
  private readonly bodyValue = new Map<NodeId, string>();
  /** Values handed to the scan per step: the main graph's `[T, B, ...]` and the body's name. */
  private readonly scanInputs = new Map<NodeId, { outer: string; inner: string }>();
  private readonly x0: string;
  /** int64 `[T, B]`, made on first use. */
  private tb: string | undefined;
  private readonly seqShapes = new Map<string, string>();
  private readonly bodyOutputs = new Set<string>();

  constructor(private readonly ir: CellIR, private readonly options: OnnxOptions) {
    this.dtype = options.dtype ?? "f32";
    this.plan = planKernels(ir, true);
    this.x0 = ir.inputs[0]!.name;
    this.main = new Scope(this.dtype, () => this.main.op("Shape", [this.mainArg(ir.leaves.inputs[0]!)], { end: 1 }));
    ir.states.forEach((s, k) => this.bodyValue.set(ir.leaves.states[k]!, `${s.name}_prev#s${k}`));
    const state0 = ir.states.length ? this.bodyValue.get(ir.leaves.states[0]!)! : "";
    this.body = new Scope(this.dtype, () => this.body.op("Shape", [state0], { end: 1 }), this.main);
  }

  build(): ModelProto {
    const { ir } = this;
    for (const id of liveNodes(ir, forwardRoots(ir))) if (ir.graph.node(id).op !== "state") this.place(id);
    const hasScan = ir.states.length > 0;
    if (hasScan) this.scan();
    const outputs = ir.outputs.map((o, k) => this.output(o.name, ir.outputNodes[k]!, hasScan));
    const finals = ir.states.map((s) => valueInfo(finalName(s.name), this.dtype, ["B", sizeOf(s.shape)]));
    const main = graph({
      name: ir.name,
      nodes: this.main.nodes,
      inputs: this.graphInputs(),
      outputs: [...outputs, ...finals],
      initializers: this.initializers(),
    });
    const doc = `forward of cell '${ir.name}'${this.options.sourcePath ? ` from ${this.options.sourcePath}` : ""}, exported by rnnc`;
    return model(main, this.options.producerVersion ?? "", doc);
  }

  private where(id: NodeId): Place {
    if (!this.plan.varying.has(id)) return "fixed";
    return this.ir.graph.node(id).op === "input" || this.plan.hoisted.has(id) ? "rows" : "body";
  }

  /** Emits one forward node where it belongs. */
  private place(id: NodeId): void {
    const n = this.ir.graph.node(id);
    if (n.op === "param") return void this.mainValue.set(id, this.ir.params[Number(n.attrs["index"])]!.name);
    if (n.op === "input") return; // flattened on first use
    const where = this.where(id);
    const scope = where === "body" ? this.body : this.main;
    const arg = (a: NodeId): OnnxArg => ({
      name: where === "body" ? this.bodyArg(a) : this.mainArg(a),
      shape: this.ir.graph.shape(a),
      varying: this.where(a) !== "fixed",
    });
    scope.hint = this.ir.graph.names.get(id) ?? n.op;
    const value = onnxLowering(n.op)({ b: scope, node: n, args: n.args.map(arg), shape: n.shape });
    (where === "body" ? this.bodyValue : this.mainValue).set(id, value);
  }

  /** A value in the main graph: fixed, or one row per step and batch entry (`[T·B, ...]`). */
  private mainArg(id: NodeId): string {
    const known = this.mainValue.get(id);
    if (known !== undefined) return known;
    const n = this.ir.graph.node(id);
    if (n.op !== "input") throw new Error(`internal error: %${id} is not in the main graph`);
    const rows = this.main.op("Reshape", [this.inputName(id), this.main.ints([-1, ...n.shape])], {}, [`${this.inputName(id)}_rows#`]);
    this.mainValue.set(id, rows);
    return rows;
  }

  private inputName(id: NodeId): string {
    return this.ir.inputs[Number(this.ir.graph.node(id).attrs["index"])]!.name;
  }

  /** A value as the scan body sees it: fixed from the outer scope, per step from a scan input. */
  private bodyArg(id: NodeId): string {
    const where = this.where(id);
    if (where === "fixed") return this.mainArg(id);
    if (where === "body") return this.bodyValue.get(id)!;
    const known = this.scanInputs.get(id);
    if (known) return known.inner;
    const n = this.ir.graph.node(id);
    const name = this.ir.graph.names.get(id) ?? n.op;
    const outer = n.op === "input" ? this.inputName(id) : this.main.op("Reshape", [this.mainArg(id), this.seqShape(n.shape)], {}, [`${name}_seq#t${id}`]);
    const inner = this.body.fresh(`${name}_t`);
    this.scanInputs.set(id, { outer, inner });
    return inner;
  }

  /** int64 `[T, B, ...shape]`. */
  private seqShape(shape: readonly number[]): string {
    const key = shape.join("x");
    const known = this.seqShapes.get(key);
    if (known !== undefined) return known;
    const hint = this.main.hint;
    this.main.hint = "seq_shape";
    this.tb ??= this.main.op("Shape", [this.x0], { end: 2 });
    const value = this.main.op("Concat", [this.tb, this.main.ints(shape)], { axis: 0 });
    this.main.hint = hint;
    this.seqShapes.set(key, value);
    return value;
  }

  /** The Scan node: states and per-step values in, final states and per-step outputs out. */
  private scan(): void {
    const { ir, body, main } = this;
    if (this.scanInputs.size === 0) this.bodyArg(ir.leaves.inputs[0]!); // the scan takes T from its inputs
    const stateOut = ir.states.map((s, k) => this.bodyOutput(ir.nextStates[k]!, `${s.name}_next`));
    const recurrent = ir.outputs.flatMap((o, k) => (this.where(ir.outputNodes[k]!) === "body" ? [{ o, k }] : []));
    const scanOut = recurrent.map(({ o, k }) => this.bodyOutput(ir.outputNodes[k]!, `${o.name}_t`));
    const info = (name: string, shape: readonly number[]) => valueInfo(name, this.dtype, ["B", ...shape]);
    const stateInfo = ir.states.map((s, k) => info(this.bodyValue.get(ir.leaves.states[k]!)!, s.shape));
    const scanInfo = [...this.scanInputs].map(([id, v]) => info(v.inner, ir.graph.shape(id)));
    const step = graph({
      name: `${ir.name}_step`,
      nodes: body.nodes,
      inputs: [...stateInfo, ...scanInfo],
      outputs: [...stateOut.map((n, k) => info(n, ir.states[k]!.shape)), ...scanOut.map((n, j) => info(n, ir.outputs[recurrent[j]!.k]!.shape))],
    });
    main.hint = "scan";
    // A matrix state is [B, n] outside the model (as rnnc's arrays hold it) and [B, rows, cols] in the scan.
    const matrix = (s: { shape: readonly number[] }) => s.shape.length > 1;
    const initial = ir.states.map((s) => {
      const flat = this.initialState(s.name, sizeOf(s.shape));
      return matrix(s) ? main.op("Reshape", [flat, main.ints([-1, ...s.shape])]) : flat;
    });
    main.op("Scan", [...initial, ...[...this.scanInputs.values()].map((v) => v.outer)], { body: step, num_scan_inputs: this.scanInputs.size }, [
      ...ir.states.map((s) => (matrix(s) ? `${finalName(s.name)}_matrix#` : finalName(s.name))),
      ...recurrent.map(({ o }) => (o.shape.length > 1 ? `${o.name}_matrix#` : o.name)),
    ]);
    for (const s of ir.states.filter(matrix)) {
      main.op("Reshape", [`${finalName(s.name)}_matrix#`, main.ints([-1, sizeOf(s.shape)])], {}, [finalName(s.name)]);
    }
  }

  /** A root as an output of the body (body outputs are distinct, and made by body nodes). */
  private bodyOutput(id: NodeId, name: string): string {
    const value = this.bodyArg(id);
    const computed = this.where(id) === "body" && this.ir.graph.node(id).op !== "state";
    if (computed && !this.bodyOutputs.has(value)) return this.bodyOutputs.add(value), value;
    const fixed = this.where(id) === "fixed";
    const rank = this.ir.graph.shape(id).length;
    this.body.hint = name;
    const input = fixed ? this.body.op("Expand", [value, this.body.op("Concat", [this.body.rows(), this.body.ints(Array<number>(rank).fill(1))], { axis: 0 })]) : value;
    return this.body.op("Identity", [input]);
  }

  /** The initial value of a state, `[B, n]`: the model's optional input, broadcast over the batch. */
  private initialState(state: string, n: number): string {
    this.main.hint = `${state}_0`;
    const b = this.main.op("Shape", [this.x0], { start: 1, end: 2 });
    return this.main.op("Expand", [initialName(state), this.main.op("Concat", [b, this.main.ints([n])], { axis: 0 })]);
  }

  /**
   * An output `[T, B, n]`: from the scan, or from the main graph for values that need no state. A
   * matrix (a state output by default) is flattened to `[T, B, rows·cols]`, as rnnc's arrays hold it.
   */
  private output(name: string, id: NodeId, hasScan: boolean): ValueInfoProto {
    const where = this.where(id);
    const shape = this.ir.graph.shape(id);
    const flat = shape.length > 1;
    const made = flat ? `${name}_matrix#` : name;
    if (where !== "body" || !hasScan) {
      this.main.hint = name;
      const value = this.mainArg(id);
      if (where === "rows") this.main.op("Reshape", [value, this.seqShape(shape)], {}, [made]);
      else this.main.op("Expand", [value, this.seqShape(shape.map(() => 1))], {}, [made]);
    }
    if (flat) this.main.op("Reshape", [made, this.seqShape([sizeOf(shape)])], {}, [name]);
    return valueInfo(name, this.dtype, ["T", "B", ...(flat ? [sizeOf(shape)] : shape)]);
  }

  private graphInputs(): ValueInfoProto[] {
    const { ir, dtype } = this;
    const inputs = ir.inputs.map((x) => valueInfo(x.name, dtype, ["T", "B", ...x.shape]));
    const params = this.options.params ? [] : ir.params.map((p) => valueInfo(p.name, dtype, p.shape));
    const initial = ir.states.map((s) => valueInfo(initialName(s.name), dtype, ["B", sizeOf(s.shape)]));
    return [...inputs, ...params, ...initial];
  }

  /** Param values (when given), and the zero default of each initial state. */
  private initializers(): TensorProto[] {
    const { ir, dtype } = this;
    const zeros = this.options.initialStates === "required" ? [] :
      ir.states.map((s) => tensor(initialName(s.name), dtype, [1, sizeOf(s.shape)], new Float64Array(sizeOf(s.shape))));
    const values = this.options.params;
    if (!values) return zeros;
    const params = ir.params.map((p) => {
      const data = values[p.name];
      if (data === undefined) throw new Error(`no value for param '${p.name}'`);
      if (data.length !== sizeOf(p.shape)) throw new Error(`param '${p.name}' has ${data.length} values, expected ${sizeOf(p.shape)} (shape [${p.shape.join(", ")}])`);
      return tensor(p.name, dtype, p.shape, data);
    });
    return [...params, ...zeros];
  }
}

/** The model's input and output names must be distinct (a param may not be called `final_h`). */
function checkNames(ir: CellIR): void {
  const names = [
    ...ir.inputs.map((x) => x.name), ...ir.params.map((p) => p.name), ...ir.outputs.map((o) => o.name),
    ...ir.states.flatMap((s) => [initialName(s.name), finalName(s.name)]),
  ];
  const twice = names.find((n, k) => names.indexOf(n) !== k);
  if (twice !== undefined) throw new Error(`cell '${ir.name}': the name '${twice}' would be used twice among the ONNX model's inputs and outputs`);
}
