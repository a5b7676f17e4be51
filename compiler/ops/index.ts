/** The op table: every primitive of the IR, looked up by name or by its name in the language. */
import type { AttrValue, Attrs } from "../ir/graph.js";
import { elementwiseOps } from "./elementwise.js";
import { extremaOps } from "./extrema.js";
import { functionOps } from "./functions.js";
import { structuralOps } from "./structural.js";
import type { AttrSpec, LeafDef, OpDef, StructuralDef } from "./types.js";

export type {
  AttrSpec, ComputedDef, ElementwiseDef, KernelWriter, LeafDef, OpDef, OpKind, ReduceDef, RowWriter, Strided,
  StructuralDef, Tensor, VjpContext,
} from "./types.js";

function leaf(name: string, attrs: Readonly<Record<string, AttrSpec>> = {}): LeafDef {
  return {
    name, arity: 0, kind: "leaf", cost: 0,
    attrs: { index: { type: "integer" }, ...attrs },
    shape: (_args, _attrs, given) => given ?? `a ${name} leaf needs its declared shape`,
  };
}

/** Leaves: an input of step t, a param, a state's previous value, a gradient fed into the backward. */
const leafOps = [leaf("input"), leaf("param"), leaf("state"), leaf("seed", { kind: { type: "string", oneOf: ["output", "state"] } })];

export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [...leafOps, ...elementwiseOps, ...functionOps, ...structuralOps, ...extremaOps].map((op) => [op.name, op]),
);

/** Function names of the language (`σ`, `sigmoid`, `tanh`, ...) to op names. */
export const FUNCTIONS: ReadonlyMap<string, OpDef> = new Map(
  [...OPS.values()].flatMap((op) => (op.syntax ?? []).map((s) => [s, op] as const)),
);

/** Every op a function name may mean, told apart by the number of arguments (`max(v)`, `max(a, b)`). */
export const OVERLOADS: ReadonlyMap<string, readonly OpDef[]> = (() => {
  const map = new Map<string, OpDef[]>();
  for (const op of OPS.values()) for (const s of op.syntax ?? []) map.set(s, [...(map.get(s) ?? []), op]);
  return map;
})();

/** The fewest and most call arguments an op takes: its operands, then its constant arguments. */
export function callArity(def: OpDef): { readonly min: number; readonly max: number } {
  const operands = typeof def.arity === "number" ? def.arity : 1;
  const constArgs = def.constArgs ?? [];
  const required = constArgs.filter((k) => def.attrs?.[k]?.default === undefined).length;
  return def.arity === "variadic" ? { min: 1, max: Infinity } : { min: operands + required, max: operands + constArgs.length };
}

/** The definition of op `name`; given a `kind`, it must be of that kind (an internal error if not). */
export function opDef(name: string): OpDef;
export function opDef<K extends OpDef["kind"]>(name: string, kind: K): Extract<OpDef, { kind: K }>;
export function opDef(name: string, kind?: OpDef["kind"]): OpDef {
  const def = OPS.get(name);
  if (!def) throw new Error(`internal error: unknown op '${name}'`);
  if (kind !== undefined && def.kind !== kind) throw new Error(`internal error: op '${name}' is ${def.kind}, not ${kind}`);
  return def;
}

/** Where the result of op `name` starts within its argument, for ops whose result is a view. */
export function viewOffsetOf(name: string): StructuralDef["viewOffset"] {
  const def = opDef(name);
  return def.kind === "structural" ? def.viewOffset : undefined;
}

/** `attrs` with the op's defaults filled in for attributes it does not give. */
export function withDefaults(def: OpDef, attrs: Attrs): Attrs {
  const specs = def.attrs;
  if (!specs) return attrs;
  let full: Record<string, AttrValue> | null = null;
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.default === undefined || key in attrs) continue;
    full ??= { ...attrs };
    full[key] = spec.default;
  }
  return full ?? attrs;
}

/** Why `attrs` are not valid attributes of the op (unknown, missing or ill-typed), or null. */
export function attrProblem(def: OpDef, attrs: Attrs): string | null {
  const specs = def.attrs ?? {};
  const unknown = Object.keys(attrs).find((k) => !(k in specs));
  if (unknown !== undefined) return `${def.name} takes no attribute '${unknown}'`;
  for (const [key, spec] of Object.entries(specs)) {
    const v = attrs[key];
    if (v === undefined) return `${def.name} needs attribute '${key}'`;
    const wrong = valueProblem(v, spec);
    if (wrong) return `${def.name} attribute ${key}=${String(v)}: ${wrong}`;
  }
  return null;
}

function valueProblem(v: AttrValue, spec: AttrSpec): string | null {
  switch (spec.type) {
    case "boolean":
      return typeof v === "boolean" ? null : "not a boolean";
    case "number":
      return typeof v === "number" ? null : "not a number";
    case "integer":
      return Number.isSafeInteger(v) && (v as number) >= (spec.min ?? 0) ? null : `not an integer ≥ ${spec.min ?? 0}`;
    case "string":
      return typeof v !== "string" ? "not a string" : spec.oneOf && !spec.oneOf.includes(v) ? `not one of ${spec.oneOf.join(", ")}` : null;
  }
}
