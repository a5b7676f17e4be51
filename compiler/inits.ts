/**
 * A param's declared initial values (`param g[H] = 1`, `param U[H, H] ~ orthogonal`), checked
 * against the param's shape: an unknown scheme, the wrong arguments, a matrix scheme on a vector
 * or bounds the wrong way round are located errors (E3034).
 */
import type { Expr, InitAst, Shape } from "./ast.js";
import type { ParamInit } from "../src/runtime/abi.js";
import type { DiagnosticBag } from "./diagnostics.js";
import { didYouMean, E } from "./messages.js";
import { show } from "./ops/types.js";

/** Each scheme's argument names; schemes written without arguments take none. */
const SCHEMES: Readonly<Record<string, readonly string[]>> = {
  orthogonal: [], xavier: [], uniform: ["low", "high"], normal: ["mean", "std"],
};

/** `constant` evaluates a number expression, reporting what is not one (and returning null). */
export function checkInit(
  init: InitAst, name: string, shape: Shape, constant: (e: Expr) => number | null, bag: DiagnosticBag,
): ParamInit | null {
  if (init.kind === "value") {
    const value = constant(init.value);
    return value === null ? null : { kind: "constant", value };
  }
  const wanted = SCHEMES[init.name];
  if (!wanted) {
    const hint = didYouMean(init.name, Object.keys(SCHEMES)) ?? "the schemes are orthogonal, xavier, uniform(low, high) and normal(mean, std)";
    bag.error(E.badInit, `unknown initialisation '${init.name}'`, init.nameSpan, [], hint);
    return null;
  }
  const usage = wanted.length === 0 ? init.name : `${init.name}(${wanted.join(", ")})`;
  if (init.args.length !== wanted.length) {
    bag.error(E.badInit, `'${init.name}' takes ${wanted.length === 0 ? "no arguments" : `${wanted.length} arguments`}, but ${init.args.length} ${init.args.length === 1 ? "is" : "are"} given`,
      init.span, [], `write '~ ${usage}'`);
    return null;
  }
  if ((init.name === "orthogonal" || init.name === "xavier") && shape.length !== 2) {
    bag.error(E.badInit, `'${init.name}' initialises a matrix, but '${name}' is ${shape.length === 0 ? "a scalar" : show(shape)}`, init.span, [],
      "use '~ uniform(low, high)', '~ normal(mean, std)' or '= value' for a vector or a scalar");
    return null;
  }
  const values = init.args.map(constant);
  if (values.some((v) => v === null)) return null;
  const [a, b] = values as number[];
  switch (init.name) {
    case "orthogonal":
      return { kind: "orthogonal" };
    case "xavier":
      return { kind: "xavier" };
    case "uniform":
      if (a! < b!) return { kind: "uniform", low: a!, high: b! };
      bag.error(E.badInit, `uniform(${a}, ${b}) is empty: the lower bound must be below the upper one`, init.span);
      return null;
    default:
      if (b! >= 0) return { kind: "normal", mean: a!, std: b! };
      bag.error(E.badInit, `normal(${a}, ${b}) has a negative standard deviation`, init.span);
      return null;
  }
}
