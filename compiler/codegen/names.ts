/**
 * Identifiers in emitted code. Every name — the cell's own and the compiler's — goes through one
 * allocator, so no text from a `.cell` file reaches the output raw: reserved words and names the
 * module already uses get a suffix, and any character that is not an identifier character is
 * replaced.
 */

const RESERVED = new Set(
  `break case catch class const continue debugger default delete do else enum export extends false
  finally for function if import in instanceof new null return super switch this throw true try
  typeof var void while with yield let static implements interface package private protected public
  await async of arguments eval undefined NaN Infinity globalThis Math Number Object Array Float32Array
  Float64Array Uint8Array Error constructor prototype __proto__ toString valueOf hasOwnProperty
  sigmoid softplus defineCell spec cell sizes default as from type readonly mm Products Real
  T B P X S Y R M WS GY GS GP GX`.split(/\s+/),
);

export function sanitize(base: string): string {
  let out = "";
  for (const ch of base) out += /[\p{ID_Continue}$]/u.test(ch) && ch !== "$" ? ch : "_";
  if (out === "" || !/^\p{ID_Start}|^_/u.test(out)) out = `_${out}`;
  return out;
}

export class Names {
  private readonly used: Set<string>;

  constructor(private readonly parent?: Names) {
    this.used = new Set(parent ? parent.used : RESERVED);
  }

  /** A fresh identifier based on `base`, never a reserved word nor a name given out before. */
  fresh(base: string): string {
    const clean = sanitize(base);
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
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
    return new Names(this);
  }
}
