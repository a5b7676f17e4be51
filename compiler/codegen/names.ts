/**
 * Identifiers in emitted code. Every name — the cell's own and the compiler's — goes through one
 * allocator, so no text from a `.cell` file reaches the output raw: it is made a plain identifier
 * (`identifier` in `literal.ts`: ASCII letters, digits, `_`, Greek letters), and reserved words,
 * names the module itself uses and names given out before get a suffix.
 */
import { KERNEL_PARAMETER_TYPES, LOADER_BINDINGS, MODULE_NAMES } from "../../src/runtime/abi.js";
import { OPS } from "../ops/index.js";
import { identifier, isPlainIdentifier } from "./literal.js";

/**
 * Reserved words of JavaScript (also in strict mode and modules), names strict mode forbids to
 * bind, and the contextual keywords that can begin a statement in TypeScript: the grammar's own list.
 */
const KEYWORDS = `break case catch class const continue debugger default delete do else enum export extends
  false finally for function if import in instanceof new null return super switch this throw true try
  typeof var void while with yield let static implements interface package private protected public
  await async arguments eval as of from type declare abstract namespace module global readonly using
  accessor satisfies require`;

/**
 * The global object of the language (ECMA-262, "The Global Object": its value, function,
 * constructor and other properties), which emitted code may read (`Math`, `NaN`, `Infinity`,
 * `undefined`, typed arrays). A host's own globals (Node's `process`, a browser's `name`) differ
 * from host to host and emitted code reads none, so they are not kept out: the same cell gets the
 * same names wherever it is compiled.
 */
export const LANGUAGE_GLOBALS = `globalThis Infinity NaN undefined eval isFinite isNaN parseFloat parseInt
  decodeURI decodeURIComponent encodeURI encodeURIComponent escape unescape AggregateError Array
  ArrayBuffer BigInt BigInt64Array BigUint64Array Boolean DataView Date Error EvalError
  FinalizationRegistry Float32Array Float64Array Function Int8Array Int16Array Int32Array Map Number
  Object Promise Proxy RangeError ReferenceError RegExp Set SharedArrayBuffer String Symbol
  SyntaxError TypeError Uint8Array Uint8ClampedArray Uint16Array Uint32Array URIError WeakMap WeakRef
  WeakSet Atomics JSON Math Reflect Intl WebAssembly`.split(/\s+/);

/** Property names every object has (`constructor`, `__proto__`, `toString`, …): better kept off as names. */
const OBJECT_PROPERTIES = Object.getOwnPropertyNames(Object.prototype);

/** Every runtime helper an op's emitted expression calls (they are imported at module level). */
const HELPERS = [...OPS.values()].flatMap((op) => op.helpers ?? []);

/**
 * Names no value of a cell may take: the grammar's, the language's globals, what the module
 * imports, declares and binds as kernel parameters (the ABI), the op helpers, what a loader binds
 * around the module's code, and the properties of every object.
 */
const RESERVED: ReadonlySet<string> = new Set([
  ...KEYWORDS.split(/\s+/),
  ...LANGUAGE_GLOBALS,
  ...MODULE_NAMES,
  // A kernel parameter its body never reads is declared `_mm` (see `parameterName`).
  ...Object.keys(KERNEL_PARAMETER_TYPES).map((p) => `_${p}`),
  ...HELPERS,
  ...LOADER_BINDINGS,
  ...OBJECT_PROPERTIES,
]);

/** Whether the allocator keeps `name` for the language, the globals and the runtime helpers. */
export function isReserved(name: string): boolean {
  return RESERVED.has(name);
}

/** When each name was given out and each scope made, in one order across all allocators. */
let clock = 0;

export class Names {
  /** The names given out here, each with when (reserved names are kept out apart). */
  private readonly given = new Map<string, number>();
  /** When this allocator was made: of its parent's names, it sees those given out before. */
  private readonly made = clock++;

  /** A root allocator keeps out the reserved names; a child scope also what its parent had given out when it was made. */
  constructor(private readonly parent?: Names) {}

  /** A fresh plain identifier based on `base`, never a reserved word nor a name given out before. */
  fresh(base: string): string {
    const clean = identifier(base);
    // A reserved word takes a trailing underscore (`do_`), as Python's `class_` does; a name given
    // out before takes a counter.
    let name = RESERVED.has(clean) && !this.taken(`${clean}_`) ? `${clean}_` : clean;
    for (let k = 1; this.taken(name); k++) name = `${clean}_${k}`;
    if (!isPlainIdentifier(name)) throw new Error(`internal error: allocated '${name}' is not a plain identifier`);
    this.given.set(name, clock++);
    return name;
  }

  /** Whether `name` is reserved or was given out before (in this scope or an enclosing one). */
  taken(name: string): boolean {
    return RESERVED.has(name) || this.gave(name, Infinity);
  }

  /** Whether `name` was given out here before `time`, or by an enclosing scope before this one was made. */
  private gave(name: string, time: number): boolean {
    const at = this.given.get(name);
    return (at !== undefined && at < time) || (this.parent !== undefined && this.parent.gave(name, this.made));
  }

  /**
   * A child scope: sees every name given out so far, and what it gives out stays local. (It asks
   * its parent, rather than copying the parent's names, since kernels make many small scopes.)
   */
  scope(): Names {
    return new Names(this);
  }
}
