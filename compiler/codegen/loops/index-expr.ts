/**
 * Index arithmetic of the loop IR: sums and products of integer constants and loop variables,
 * built as values and rendered in one place, with parentheses where the structure needs them.
 * `(t * B + b) * 16 + 32 + i` is `plus(times(plus(times(t, B), b), 16), 32, i)`.
 */

export type Ix =
  | { readonly kind: "num"; readonly value: number }
  | { readonly kind: "var"; readonly name: string }
  | { readonly kind: "sum"; readonly terms: readonly Ix[] }
  | { readonly kind: "product"; readonly factors: readonly Ix[] };

export const num = (value: number): Ix => {
  if (value === 0) return ZERO;
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`internal error: index constant ${value}`);
  return { kind: "num", value };
};

export const ix = (name: string): Ix => ({ kind: "var", name });

const isNum = (e: Ix, value: number) => e.kind === "num" && e.value === value;

/** `a + b + …`, without zero terms, nested sums flattened. */
export function plus(...xs: readonly Ix[]): Ix {
  const terms: Ix[] = [];
  for (const x of xs) {
    if (x.kind === "sum") terms.push(...x.terms);
    else if (!isNum(x, 0)) terms.push(x);
  }
  if (terms.length === 0) return ZERO;
  return terms.length === 1 ? terms[0]! : { kind: "sum", terms };
}

/** `a * b * …`, without factors of one; zero if any factor is zero. */
export function times(...xs: readonly Ix[]): Ix {
  const factors: Ix[] = [];
  for (const x of xs) {
    if (isNum(x, 0)) return ZERO;
    if (x.kind === "product") factors.push(...x.factors);
    else if (!isNum(x, 1)) factors.push(x);
  }
  if (factors.length === 0) return num(1);
  return factors.length === 1 ? factors[0]! : { kind: "product", factors };
}

const ZERO: Ix = { kind: "num", value: 0 };

/** Whether `e` is the constant `value`. */
export const isConst = isNum;

/** The index as JavaScript: a sum inside a product is parenthesized, nothing else is. */
export function show(e: Ix): string {
  switch (e.kind) {
    case "num":
      return String(e.value);
    case "var":
      return e.name;
    case "sum": {
      let out = show(e.terms[0]!);
      for (let k = 1; k < e.terms.length; k++) out += ` + ${show(e.terms[k]!)}`;
      return out;
    }
    case "product": {
      let out = "";
      for (let k = 0; k < e.factors.length; k++) {
        const f = e.factors[k]!;
        out += `${k ? " * " : ""}${f.kind === "sum" ? `(${show(f)})` : show(f)}`;
      }
      return out;
    }
  }
}

/**
 * Reads back an index an op's loop writer built as text (`m + 1`, `(r + 2) * 16 + c`): integers,
 * plain names, `+`, `*` and parentheses. Anything else is an internal error, never guessed at.
 */
export function parseIndex(text: string): Ix {
  let e = parsed.get(text);
  if (e === undefined) {
    e = parse(text);
    if (parsed.size > 10_000) parsed.clear();
    parsed.set(text, e);
  }
  return e;
}

/** Index texts read back before: an op's tiles ask for the same few again and again. */
const parsed = new Map<string, Ix>();

function parse(text: string): Ix {
  const tokens = text.match(/\d+|[A-Za-z_$\u0370-\u03ff][\w$\u0370-\u03ff]*|[+*()]|\S/gu) ?? [];
  let at = 0;
  const fail = (): never => {
    throw new Error(`internal error: '${text}' is not an index expression`);
  };
  const atom = (): Ix => {
    const t = tokens[at++] ?? fail();
    if (t === "(") {
      const e = sum();
      if (tokens[at++] !== ")") fail();
      return e;
    }
    if (/^\d+$/u.test(t)) return num(Number(t));
    if (/^[A-Za-z_$\u0370-\u03ff]/u.test(t)) return ix(t);
    return fail();
  };
  const product = (): Ix => {
    const fs = [atom()];
    while (tokens[at] === "*") at++, fs.push(atom());
    return times(...fs);
  };
  const sum = (): Ix => {
    const ts = [product()];
    while (tokens[at] === "+") at++, ts.push(product());
    return plus(...ts);
  };
  const e = sum();
  if (at !== tokens.length) fail();
  return e;
}
