/**
 * A graph being built: its nodes in order, names for their values, and constants. Names are
 * unique across the model (a scan body sees the main graph's values by name) and readable: the
 * cell's own name for the value being lowered, then `#` and a number (`#` cannot occur in a cell's
 * names, so no generated name meets an input, a param or an output).
 */
import type { OnnxBuilder } from "./onnx-ops.js";
import { node, tensor, type AttrValue, type NodeProto } from "./onnx-proto.js";

class Counter {
  next = 0;
}

export class Scope implements OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  /** The name values get next: the IR value being lowered. */
  hint = "v";
  private readonly counter: Counter;
  private readonly constants = new Map<string, string>();
  private rowCount: string | null = null;

  /**
   * `rowsOf` makes the int64 `[1]` row count on first use; constants go to `parent` when given
   * (the main graph, seen from the scan body).
   */
  constructor(
    readonly dtype: "f32" | "f64",
    private readonly rowsOf: () => string,
    private readonly parent?: Scope,
  ) {
    this.counter = parent ? parent.counter : new Counter();
  }

  fresh(hint: string): string {
    return `${hint}#${this.counter.next++}`;
  }

  op(type: string, inputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}, outputs?: readonly string[]): string {
    const out = outputs ?? [this.fresh(this.hint)];
    this.nodes.push(node(type, inputs, out, attrs));
    return out[0]!;
  }

  ints(values: readonly number[]): string {
    return this.constant(`i:${values.join(",")}`, "i64", [values.length], values);
  }

  scalar(value: number): string {
    return this.constant(`f:${value}`, this.dtype, [], [value]);
  }

  rows(): string {
    return (this.rowCount ??= this.rowsOf());
  }

  private constant(key: string, type: "f32" | "f64" | "i64", dims: readonly number[], values: readonly number[]): string {
    if (this.parent) return this.parent.constant(key, type, dims, values);
    const known = this.constants.get(key);
    if (known !== undefined) return known;
    const name = this.fresh("const");
    this.nodes.push(node("Constant", [], [name], { value: tensor("", type, dims, values) }));
    this.constants.set(key, name);
    return name;
  }
}
