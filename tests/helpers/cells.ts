/** Builds checked cells directly (no parser), for testing the stages after the checker. */
import type { Binding, CheckedCell, CheckedEquation, Shape, TExpr, TensorDecl } from "../../compiler/ast.js";
import { opDef, withDefaults } from "../../compiler/ops/index.js";

const at = { start: 0, end: 0 };

export const decl = (name: string, ...shape: number[]): TensorDecl => ({ name, shape, span: at });

export function ref(name: string, binding: Binding, shape: Shape): TExpr {
  return { kind: "ref", name, binding, shape, span: at };
}

export function op(name: string, ...args: TExpr[]): TExpr {
  const def = opDef(name);
  const shape = def.shape(args.map((a) => a.shape), withDefaults(def, {}));
  if (typeof shape === "string") throw new Error(shape);
  return { kind: "op", op: name, args, shape, span: at };
}

export const num = (value: number): TExpr => ({ kind: "const", value, shape: [], span: at });

/** The Elman cell h = tanh(Wx·x + Wh·h + b). */
export function elman(I: number, H: number): CheckedCell {
  const x = ref("x", { kind: "input", index: 0 }, [I]);
  const h = ref("h", { kind: "statePrev", index: 0 }, [H]);
  const [Wx, Wh, b] = [
    ref("Wx", { kind: "param", index: 0 }, [H, I]),
    ref("Wh", { kind: "param", index: 1 }, [H, H]),
    ref("b", { kind: "param", index: 2 }, [H]),
  ];
  const eq: CheckedEquation = {
    target: "h", state: 0, span: at,
    expr: op("tanh", op("add", op("add", op("matmul", Wx, x), op("matmul", Wh, h)), b)),
  };
  return {
    name: "rnn", span: at, sizes: new Map([["I", I], ["H", H]]),
    inputs: [decl("x", I)], states: [decl("h", H)], params: [decl("Wx", H, I), decl("Wh", H, H), decl("b", H)],
    equations: [eq],
    outputs: [{ name: "h", span: at, expr: ref("h", { kind: "equation", equation: 0 }, [H]) }],
  };
}
