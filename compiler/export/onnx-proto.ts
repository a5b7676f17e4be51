/**
 * The ONNX schema as messages: small constructors over the `onnx-buf` definitions (ONNX's own
 * `onnx.proto`, compiled for `@bufbuild/protobuf`), and the encoding of a model to bytes. Nothing
 * here knows about cells; `onnx.ts` builds graphs out of these.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataType as DataType,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "onnx-buf";

export type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto };

/** Element types the exporter writes: the cell's float type, and int64 for shapes and axes. */
export type ElemType = "f32" | "f64" | "i64";

/** The opset the lowerings are written against (axes of ReduceMean and Pad as inputs need 18). */
export const OPSET = 18;
/** The IR version that goes with opset 18 (ONNX 1.13). */
export const IR_VERSION = 8;

const DATA_TYPE: Readonly<Record<ElemType, number>> = { f32: DataType.FLOAT, f64: DataType.DOUBLE, i64: DataType.INT64 };

/** An attribute value: a number is an int (`{ float }` a float), a graph a subgraph, a tensor a value. */
export type AttrValue = number | readonly number[] | string | GraphProto | TensorProto | { readonly float: number };

const isList = (v: AttrValue): v is readonly number[] => Array.isArray(v);

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === "number") return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(value) });
  if (typeof value === "string")
    return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(value) });
  if (isList(value)) return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: value.map((v) => BigInt(v)) });
  if ("float" in value) return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: value.float });
  if (value.$typeName === "onnx.TensorProto") return create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: value });
  return create(AttributeProtoSchema, { name, type: AttrType.GRAPH, g: value });
}

export function node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Readonly<Record<string, AttrValue>> = {}): NodeProto {
  return create(NodeProtoSchema, {
    opType,
    input: [...inputs],
    output: [...outputs],
    name: outputs[0] ?? opType,
    attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  });
}

/** A tensor holding `values` (float64 numbers, written as the element type) with `dims`. */
export function tensor(name: string, type: ElemType, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  const data =
    type === "f32" ? Float32Array.from(values) : type === "f64" ? Float64Array.from(values) : BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  // Typed arrays are little-endian on every platform Node runs on, as ONNX's raw_data is.
  const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  return create(TensorProtoSchema, { name, dataType: DATA_TYPE[type], dims: dims.map((d) => BigInt(d)), rawData: raw });
}

/** A dimension: a number, or a name for a size known only at run time (`T`, `B`). */
export type Dim = number | string;

export function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): ValueInfoProto {
  const dim = dims.map((d) =>
    typeof d === "number" ? { value: { case: "dimValue" as const, value: BigInt(d) } } : { value: { case: "dimParam" as const, value: d } },
  );
  return create(ValueInfoProtoSchema, {
    name,
    type: { value: { case: "tensorType", value: { elemType: DATA_TYPE[type], shape: { dim } } } },
  });
}

export interface GraphParts {
  readonly name: string;
  readonly nodes: readonly NodeProto[];
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly initializers?: readonly TensorProto[];
  readonly doc?: string;
}

export function graph(parts: GraphParts): GraphProto {
  return create(GraphProtoSchema, {
    name: parts.name,
    node: [...parts.nodes],
    input: [...parts.inputs],
    output: [...parts.outputs],
    initializer: [...(parts.initializers ?? [])],
    docString: parts.doc ?? "",
  });
}

export function model(main: GraphProto, producerVersion: string, doc: string): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: BigInt(IR_VERSION),
    opsetImport: [{ domain: "", version: BigInt(OPSET) }],
    producerName: "rnnc",
    producerVersion,
    docString: doc,
    graph: main,
  });
}

export function encodeModel(m: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, m);
}
