/**
 * Identifiers in emitted code. Every name — the cell's own and the compiler's — goes through one
 * allocator, so no text from a `.cell` file reaches the output raw: it is made a plain identifier
 * (`identifier` in `literal.ts`: ASCII letters, digits, `_`, Greek letters), and reserved words,
 * names the module itself uses and names given out before get a suffix.
 */
import { OPS } from "../ops/index.js";
import { identifier, isPlainIdentifier } from "./literal.js";

/**
 * Reserved words of JavaScript (also in strict mode and modules), names strict mode forbids to
 * bind, and the contextual keywords that can begin a statement in TypeScript.
 */
const KEYWORDS = `break case catch class const continue debugger default delete do else enum export extends
  false finally for function if import in instanceof new null return super switch this throw true try
  typeof var void while with yield let static implements interface package private protected public
  await async arguments eval as of from type declare abstract namespace module global readonly using
  accessor satisfies require`;

/**
 * Names the emitted code reads without declaring them: globals (`NaN` and `Infinity` are how
 * `numberLiteral` writes those values), what the CommonJS form `load` runs defines, and property
 * names that are better kept off.
 */
const GLOBALS = `undefined NaN Infinity globalThis Math Number Object Array Float32Array Float64Array
  Uint8Array Error exports __esModule __filename __dirname constructor prototype __proto__ toString
  valueOf hasOwnProperty`;

/** Every runtime helper an op's emitted expression calls (they are imported at module level). */
const HELPERS = [...OPS.values()].flatMap((op) => op.helpers ?? []);

const RESERVED: ReadonlySet<string> = new Set([...`${KEYWORDS} ${GLOBALS}`.split(/\s+/), ...HELPERS]);

/** Whether the allocator keeps `name` for the language, the globals and the runtime helpers. */
export function isReserved(name: string): boolean {
  return RESERVED.has(name);
}

export class Names {
  private readonly used: Set<string>;

  /**
   * A root allocator keeps out the reserved words and `module`: the names the module itself
   * declares or imports and the kernels' parameters.
   */
  constructor(module: Iterable<string> = [], private readonly parent?: Names) {
    this.used = new Set(parent ? parent.used : [...RESERVED, ...module]);
  }

  /** A fresh plain identifier based on `base`, never a reserved word nor a name given out before. */
  fresh(base: string): string {
    const clean = identifier(base);
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    if (!isPlainIdentifier(name)) throw new Error(`internal error: allocated '${name}' is not a plain identifier`);
    this.used.add(name);
    return name;
  }

  /** A fresh identifier that every enclosing scope also keeps out of later use (module-level names). */
  freshShared(base: string): string {
    const name = this.fresh(base);
    for (let p = this.parent; p; p = p.parent) p.used.add(name);
    return name;
  }

  /** A child scope: sees every name given out so far, and what it gives out stays local. */
  scope(): Names {
    return new Names([], this);
  }
}
