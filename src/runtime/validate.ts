/** Checks of what a caller passes a cell, each failure a `DataError` naming the field. */
import { DataError } from "./errors.js";
import { nearest } from "../../compiler/messages.js";

/** What a wrong value is, for an error: "a string", "an Array", "Int32Array", "an object", … */
export const describe = (v: unknown): string => {
  if (v === null || typeof v !== "object") return v === null ? "null" : typeof v === "string" ? "a string" : typeof v;
  if (Array.isArray(v)) return "an Array";
  const maker = (v as { constructor?: { name?: string } }).constructor;
  return maker && maker !== Object && maker.name ? maker.name : "an object";
};

/** `field.key: unknown …` naming the nearest known name, if one is near. */
export function unknownName(field: string, key: string, kind: string, known: readonly string[]): DataError {
  const near = nearest(key, known);
  const hint = near === undefined ? "" : `did you mean '${near}'? `;
  return new DataError(`${field}.${key}: unknown ${kind}; ${hint}(expected ${known.join(", ") || "none"})`);
}

/** `value` as an object, or a `DataError` naming `field`. */
export function object(field: string, value: unknown, what: string): object {
  if (typeof value !== "object" || value === null) throw new DataError(`${field}: expected ${what}, got ${describe(value)}`);
  return value;
}

/** Rejects any key of `options` (an object) not in `known`; allocates nothing. */
export function onlyKeys(field: string, options: object, known: readonly string[]): void {
  for (const key in options) if (!known.includes(key)) throw unknownName(field, key, "option", known);
}
