/**
 * A generator of well-shaped random cells, as `.cell` source text, over the whole language: every
 * elementwise function (constant arguments, literal or `const`, included), `x^n`, matrix products
 * (with transposes and concatenations), scalar reductions (sum, mean, max, min) and broadcasts,
 * softmax, scalar params, locals, states read before and after assignment, `h[t-1]`, and outputs. Guarded
 * forms keep log, sqrt, division and exp inside their domains. Built with fast-check's `gen`, so
 * failures shrink.
 *
 * Values are shared on purpose: one input, state or local feeds several sums and outputs at once;
 * outputs may be an input, a state, a param or a local as it is, or a sum of values already
 * computed; states are sometimes never assigned and only read. Those are the shapes in which a
 * sink's initialising term can be misplaced among the terms that add to it.
 */
import fc from "fast-check";

type Gen = fc.GeneratorValue;

interface Vec {
  readonly text: string;
  readonly size: string;
}

export interface RandomCellOptions {
  /**
   * Also draw scalar constants, special values among them (±0, ±∞, NaN, subnormals, huge values),
   * alone or in constant expressions, combined with subexpressions in random places.
   */
  readonly constants?: boolean;
}

/** Literals and constant expressions for every kind of double (folding must keep each bit). */
const SPECIAL = ["0", "-0", "(1 / 0)", "(-1 / 0)", "(0 / 0)", "5e-324", "-2.2e-308", "1e308", "-3e38", "1", "0.5", "-2"];

/** A scalar constant: a special literal, or an op of the language applied to constants. */
function constant(g: Gen, depth: number): string {
  const form = depth <= 0 ? 0 : g(fc.integer, { min: 0, max: 2 });
  if (form === 0) return g(fc.constantFrom, ...SPECIAL);
  if (form === 1) {
    const f = g(fc.constantFrom, "σ", "tanh", "relu", "sin", "cos", "softplus", "abs", "exp", "log", "sqrt", "-",
      "square", "rsqrt", "softsign", "gelu", "elu", "leaky_relu", "^");
    if (f === "^") return `(${constant(g, depth - 1)})^${g(fc.constantFrom, "2", "3", "-1", "-2", "0", "10")}`;
    return `${f}(${constant(g, depth - 1)})`;
  }
  return `(${constant(g, depth - 1)} ${g(fc.constantFrom, "+", "-", "*", "/")} ${constant(g, depth - 1)})`;
}

export function randomCell(g: Gen, options: RandomCellOptions = {}): string {
  const sizeNames = ["I", "H", "K"];
  const sizes = sizeNames.map((n) => `${n} = ${g(fc.integer, { min: 1, max: 6 })}`);
  const stateCount = g(fc.integer, { min: 1, max: 2 });
  const states = ["h", "c"].slice(0, stateCount).map((name, k) => ({ name, size: k === 0 ? "H" : g(fc.constantFrom, "H", "K") }));
  const params: string[] = [];
  const fresh = (prefix: string, dims: string) => {
    const name = `${prefix}${params.length}`;
    params.push(`${name}[${dims}]`);
    return name;
  };
  const scalarParam = () => {
    const name = `s${params.length}`;
    params.push(name);
    return name;
  };
  const consts: string[] = [];
  const constName = (value: string) => {
    const name = `k${consts.length}`;
    consts.push(`${name} = ${value}`);
    return name;
  };
  const available: Vec[] = [{ text: "x", size: "I" }, ...states.map((s) => ({ text: s.name, size: s.size }))];
  const spell = (...forms: string[]) => g(fc.constantFrom, ...forms);

  const vec = (size: string, depth: number): string => {
    if (options.constants && g(fc.integer, { min: 0, max: 3 }) === 0) {
      const [c, e] = [constant(g, 2), vec(size, depth - 1)];
      const op = g(fc.constantFrom, "+", "-", "*", "/");
      return g(fc.boolean) ? `(${c} ${op} ${e})` : `(${e} ${op} ${c})`;
    }
    const choice = depth <= 0 ? g(fc.integer, { min: 0, max: 1 }) : g(fc.integer, { min: 0, max: 13 });
    const sub = (s = size) => vec(s, depth - 1);
    const pickSize = () => g(fc.constantFrom, ...sizeNames);
    switch (choice) {
      case 0: {
        const here = available.filter((v) => v.size === size);
        if (here.length) return g(fc.constantFrom, ...here).text;
        return fresh("b", size);
      }
      case 1: {
        const m = pickSize();
        return `(${fresh("W", `${size}, ${m}`)}${spell("·", " @ ")}${depth > 0 ? `(${sub(m)})` : leafOf(m)})`;
      }
      case 2: {
        const m = pickSize();
        const V = fresh("V", `${m}, ${size}`);
        return `(${spell(`transpose(${V})`, `${V}ᵀ`)}·(${sub(m)}))`;
      }
      case 3: {
        const [m1, m2] = [pickSize(), pickSize()];
        return `(${fresh("W", `${size}, ${m1}+${m2}`)}·[${sub(m1)}; ${sub(m2)}])`;
      }
      case 4: {
        const f = spell("σ", "sigmoid", "tanh", "relu", "sin", "cos", "softplus", "abs");
        return `${f}(${sub()})`;
      }
      case 5: {
        const e = sub();
        return spell(`exp(tanh(${e}))`, `log(1.5 + tanh(${e}))`, `sqrt(1 + ${e} ⊙ ${e})`);
      }
      case 6:
        return `(${sub()} ${spell("+", "-", "⊙", "∘", "*")} ${sub()})`;
      case 7:
        return `${sub()} / (2 + cos(${sub()}))`;
      case 8: {
        const s = pickSize();
        return spell(`0.5 * ${sub()}`, `(${sub()} * mean(${sub(s)}))`, `(${sub()} - sum(${sub(s)}) / 4)`);
      }
      case 9:
        return sumOfValues(size);
      case 11: {
        const e = sub();
        const k = () => spell("0.5", "-0.25", constName(spell("0.5", "2", "-1", "0.125")));
        return spell(`gelu(${e})`, `softsign(${e})`, `square(${e})`, `rsqrt(1 + ${e} ⊙ ${e})`, `elu(${e})`, `elu(${e}, ${k()})`,
          `leaky_relu(${e})`, `leaky_relu(${e}, ${k()})`, `clip(${e}, -0.5, ${spell("0.5", constName("0.75"))})`, `(${e})^2`, `(${e})^3`,
          `(1.5 + tanh(${e}))^-1`, `softmax(${e})`);
      }
      case 12: {
        const s = pickSize();
        return spell(`max(${sub()}, ${sub()})`, `min(${sub()}, ${spell("0.1", "-0.2")})`, `(${sub()} * max(${sub(s)}))`, `(${sub()} - min(${sub(s)}))`);
      }
      case 13:
        return `(${scalarParam()} * ${sub()})`;
      default:
        return `-(${sub()})`;
    }
  };
  /** A sum of values that are already there (inputs, states, locals), perhaps with a bias. */
  const sumOfValues = (size: string): string => {
    const terms = Array.from({ length: g(fc.integer, { min: 2, max: 3 }) }, () => leafOf(size));
    if (g(fc.boolean)) terms.splice(g(fc.integer, { min: 0, max: terms.length }), 0, fresh("b", size));
    return `(${terms.join(" + ")})`;
  };
  const leafOf = (size: string) => {
    const here = available.filter((v) => v.size === size);
    return here.length ? g(fc.constantFrom, ...here).text : fresh("b", size);
  };

  const lines: string[] = [];
  const localCount = g(fc.integer, { min: 0, max: 2 });
  for (let k = 0; k < localCount; k++) {
    const size = g(fc.constantFrom, ...sizeNames);
    lines.push(`a${k} = ${vec(size, 2)}`);
    available.push({ text: `a${k}`, size });
  }
  for (const s of states) {
    if (g(fc.integer, { min: 0, max: 5 }) === 0) continue; // a state never assigned keeps its value
    lines.push(`${s.name} = ${vec(s.size, 3)}`);
    available.push({ text: `${s.name}[t-1]`, size: s.size });
  }
  const outputs: string[] = [];
  const outputCount = g(fc.integer, { min: 0, max: 3 });
  for (let k = 0; k < outputCount; k++) {
    const size = g(fc.constantFrom, ...sizeNames);
    const form = g(fc.integer, { min: 0, max: 3 });
    const expr = form === 0 ? vec(size, 2) : form === 1 ? leafOf(size) : form === 2 ? fresh("p", size) : sumOfValues(size);
    outputs.push(`output y${k} = ${expr}`);
  }
  if (outputs.length && g(fc.boolean)) outputs.push(`output ${states[0]!.name}`);
  return [
    "cell random {",
    `  size ${sizes.join(", ")}`,
    ...(consts.length ? [`  const ${consts.join(", ")}`] : []),
    "  input x[I]",
    `  state ${states.map((s) => `${s.name}[${s.size}]`).join(", ")}`,
    ...(params.length ? [`  param ${params.join(", ")}`] : []),
    ...lines.map((l) => `  ${l}`),
    ...outputs.map((o) => `  ${o}`),
    "}",
    "",
  ].join("\n");
}

export const randomCells = fc.gen().map((g) => randomCell(g));
export const randomCellsWithConstants = fc.gen().map((g) => randomCell(g, { constants: true }));
