/**
 * Params versions. A cell keeps the values it derives from params alone (the stacked copies of
 * weight groups) in its workspace, and derives them again only when the params it is called with
 * are not the ones it derived them from: another object, another array in it, or the same object
 * with a newer version. Params made by `createParams`, `initParams` or `trackParams` carry a
 * version; the optimizers, `loadParams`, `initializeParams` and the PyTorch imports bump it after
 * writing, and so must code that writes params arrays by hand (`bumpParams(params)`). An object
 * without a version (one built by hand) is derived from again at every call.
 */

/** Where an object keeps its version: a non-enumerable property, shared by every copy of the runtime. */
const VERSION = Symbol.for("rnnc.paramsVersion");

type Versioned = { [VERSION]?: number };

/** The version of a params object, or undefined when it carries none. */
export function paramsVersion(params: object): number | undefined {
  return (params as Versioned)[VERSION];
}

/**
 * Gives `params` a version (kept if it has one), so cells reuse what they derive from it until it
 * is bumped; returns it. An object that cannot take a property (frozen) stays without one.
 */
export function trackParams<T extends object>(params: T): T {
  if (paramsVersion(params) === undefined && Object.isExtensible(params))
    Object.defineProperty(params, VERSION, { value: 0, writable: true, enumerable: false, configurable: false });
  return params;
}

/** Says that arrays of `params` were written: every cell derives its stacked weights again at its next call. */
export function bumpParams(params: object): void {
  trackParams(params);
  const v = paramsVersion(params);
  if (v !== undefined) (params as Versioned)[VERSION] = v + 1;
}
