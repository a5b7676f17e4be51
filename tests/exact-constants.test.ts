/**
 * Constants and rewrites are exact to the bit: every number reaches the emitted code as a literal
 * that reads back as the same double (−0 included), constant folding computes with each op's own
 * emitted expression, and every value rule of simplify gives the bits of what it replaces for
 * ±0, ±∞, NaN, subnormal and huge arguments. The three examples run the same optimized
 * and unoptimized.
 */
import { describe, expect, it } from "vitest";
import { compileSource } from "../compiler/index.js";
import { numberLiteral } from "../compiler/codegen/literal.js";
import type { Attrs } from "../compiler/ir/graph.js";
import { OPS, opDef, withDefaults } from "../compiler/ops/index.js";
import { RULES } from "../compiler/passes/simplify.js";
import { instantiate } from "../src/instantiate.js";
import * as runtime from "../src/runtime/index.js";

const SPECIAL = [0, -0, Infinity, -Infinity, NaN, 5e-324, -5e-324, -2.2e-308, 2.2250738585072014e-308, 1e308, -3e38,
  Number.MAX_VALUE, 1, -1, 0.5, -2, 0.1, 1 / 3, -Math.PI, 2 ** 53 + 2, 1e-7];

/** Evaluates JavaScript `code` with the runtime's helpers in scope, as the emitted kernels do. */
const HELPERS = { sigmoid: runtime.sigmoid, softplus: runtime.softplus, erf: runtime.erf, gelu: runtime.gelu, elu: runtime.elu, softsign: runtime.softsign };
const evaluate = (code: string, vars: Record<string, number> = {}): number =>
  new Function(...Object.keys(HELPERS), ...Object.keys(vars), `return ${code};`)(...Object.values(HELPERS), ...Object.values(vars));

describe("numbers in emitted code", () => {
  it("read back as the same double, −0 and the special values included", () => {
    for (const v of SPECIAL) expect(Object.is(evaluate(numberLiteral(v)), v), numberLiteral(v)).toBe(true);
  });

  it("never merge with the operator before them", () => {
    for (const v of SPECIAL) {
      expect(Object.is(evaluate(`x - ${numberLiteral(v)}`, { x: 1 }), 1 - v), `1 - ${numberLiteral(v)}`).toBe(true);
      expect(Object.is(evaluate(`(-${numberLiteral(v)})`), -v), `-${numberLiteral(v)}`).toBe(true);
    }
    expect(numberLiteral(-0)).toBe("(-0)");
  });
});

/** Attributes each op with attributes is tried with (special values among them). */
const ATTRS: Readonly<Record<string, readonly Attrs[]>> = {
  pow: [-9, -3, -2, -1, 0, 1, 2, 3, 4, 8, 9, 12].map((n) => ({ n })),
  elu: [{}, { alpha: 0.5 }, { alpha: -0 }, { alpha: 1e300 }],
  elu_grad: [{}, { alpha: 0.5 }],
  leaky_relu: [{}, { slope: 0.2 }, { slope: -0 }, { slope: -1e-320 }],
  clip: [{ lo: -1, hi: 1 }, { lo: -0, hi: 0 }, { lo: -Infinity, hi: 5e-324 }],
  inside: [{ lo: -1, hi: 1 }, { lo: -0, hi: 0 }],
};

describe("constant folding", () => {
  it("computes each elementwise op exactly as its emitted expression does", () => {
    for (const op of OPS.values()) {
      if (op.kind !== "elementwise" || op.arity === 0) continue;
      const arity = op.arity as number;
      const tuples = arity === 1 ? SPECIAL.map((a) => [a]) : SPECIAL.flatMap((a) => SPECIAL.map((b) => [a, b]));
      for (const attrs of ATTRS[op.name] ?? [{}]) {
        const full = withDefaults(op, attrs);
        for (const args of tuples) {
          const emitted: number = evaluate(op.expr(args.map(numberLiteral), full));
          const folded: number = op.scalar(args, full);
          if (!Object.is(emitted, folded)) expect.fail(`${op.name}(${args.map(numberLiteral)}; ${JSON.stringify(attrs)}): folds to ${folded}, runs as ${emitted}`);
        }
      }
    }
  });
});

type Expr = string | Expr[];

/** Parses a rule's s-expression. */
function parse(text: string): Expr {
  const tokens = text.match(/\(|\)|[^\s()]+/g)!;
  let at = 0;
  const next = (): Expr => {
    const tok = tokens[at++]!;
    if (tok !== "(") return tok;
    const list: Expr[] = [];
    while (tokens[at] !== ")") list.push(next());
    at++;
    return list;
  };
  return next();
}

function evalRule(e: Expr, vars: Record<string, number>): number {
  if (typeof e === "string") return e.startsWith("?") ? vars[e]! : Number(e);
  const [op, ...args] = e as [string, ...Expr[]];
  return opDef(op, "elementwise").scalar(args.map((a) => evalRule(a, vars)), {});
}

describe("simplify's value rules", () => {
  it("give the bits of what they replace for every special value", () => {
    const elementwise = RULES.filter(([, p]) => [...p.matchAll(/\(([a-z]+)/g)].every(([, op]) => OPS.get(op)!.kind === "elementwise"));
    expect(elementwise.length).toBeGreaterThan(5);
    for (const [name, pattern, replacement] of elementwise) {
      for (const x of SPECIAL) for (const y of SPECIAL) {
        const vars = { "?x": x, "?y": y };
        const [before, after] = [evalRule(parse(pattern), vars), evalRule(parse(replacement), vars)];
        if (!Object.is(before, after)) expect.fail(`${name} at x = ${numberLiteral(x)}, y = ${numberLiteral(y)}: ${before} becomes ${after}`);
      }
    }
  });
});

describe("the issue's examples", () => {
  const source = `cell k {
  size H = 2
  input x[H]
  state h[H]
  param b[H]
  output y0 = tanh(b / -0)
  output y1 = relu(0 / 0) + x
  output y2 = x / (0 - h)
}`;
  const outputs = (optimize: boolean) => {
    const cell = instantiate(compileSource(source, { dtype: "f64", optimize })[0]!);
    const trace = cell.forward({ b: Float64Array.of(0.5, -0.5) }, { x: Float64Array.of(1, -1) }, { T: 1, B: 1 });
    return ["y0", "y1", "y2"].map((y) => [...trace.outputs[y]!]);
  };

  it("run the same optimized and unoptimized, with IEEE 754's answers", () => {
    const expected = [[-1, 1], [NaN, NaN], [Infinity, -Infinity]];
    expect(outputs(false)).toEqual(expected);
    expect(outputs(true)).toEqual(expected);
  });
});
