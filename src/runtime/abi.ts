/**
 * The contract between the compiler and the runtime, written once: both import it, and nothing
 * here imports anything. It says
 *
 * - which dtypes, row kinds, kernels and product modes there are;
 * - how the runtime calls a kernel: each kernel's parameters, in order, with their types;
 * - the cell spec an emitted module declares and `defineCell` reads (one type for both);
 * - the matrix products a kernel calls (`mm.nt`, `mm.nn`, `mm.tn`): their arguments, from which
 *   the runtime's `Products` type, the WebAssembly functions' parameters and codegen's calls follow;
 * - the names an emitted module imports from the runtime and declares itself.
 */

export const DTYPES = ["f32", "f64"] as const;
/** Element type of a compiled cell: float32 or float64 typed arrays. */
export type DType = (typeof DTYPES)[number];

/** A typed array of one dtype. */
export interface ArrayOf {
  readonly f32: Float32Array;
  readonly f64: Float64Array;
}
export type Real = ArrayOf[DType];

/**
 * A list of `N` typed arrays as a tuple: how an emitted TypeScript kernel reads a list parameter
 * (`const [Wf, Uf] = P as Arrays<2>`), since the runtime passes exactly one array per name.
 */
export type Arrays<N extends number, A extends readonly Real[] = readonly []> = A["length"] extends N ? A : Arrays<N, readonly [...A, Real]>;

export const KERNELS = ["forward", "backward", "step", "infer"] as const;

export type KernelName = (typeof KERNELS)[number];

/**
 * Whose scratch a workspace buffer is, for sharing memory: `infer` runs the forward's statements
 * and never at the same time as it, so their buffers are one group.
 */
export const SCRATCH_GROUP: { readonly [K in KernelName]: KernelName } = { forward: "forward", infer: "forward", backward: "backward", step: "step" };

/**
 * How many rows a workspace buffer has: one, one per batch entry, one per step and batch entry,
 * or one per batch entry of each step of a chunk (`chunkSteps(T, B)·B`).
 */
export const ROW_KINDS = ["one", "B", "TB", "chunk"] as const;
export type RowKind = (typeof ROW_KINDS)[number];

/**
 * Rows a chunk of steps aims at. Values hoisted out of the recurrence (the input projections) and
 * the backward's deferred gradient work run a chunk of steps at a time, so their buffers hold
 * about this many rows whatever T is; a batch of this many rows or more runs a step per chunk.
 */
export const CHUNK_ROWS = 256;

/** Steps per chunk at (T, B): the kernels and the runtime's buffer sizes both use this. */
export const chunkSteps = (T: number, B: number): number => Math.min(T, Math.ceil(CHUNK_ROWS / B));

/**
 * The rows of an output gradient the backward reads at (T, B), by whether the caller gave one:
 * a given gradient is `[T][B][n]`, and step t reads its rows from `t·B` on (B rows per step); an
 * output given no gradient is read as zeros of one chunk's rows (`chunkSteps(T, B)·B`), the same
 * rows at every step (0 rows per step), so no T·B array of zeros is made. The backward kernel
 * takes the rows per step of each output gradient as its `GYrows` parameter.
 */
export const outputGradRows = (given: boolean, T: number, B: number): { readonly rows: number; readonly perStep: number } =>
  given ? { rows: T * B, perStep: B } : { rows: chunkSteps(T, B) * B, perStep: 0 };

/** Matrix products as calls into the runtime, or as register-tiled loops in the emitted module. */
export const PRODUCTS_MODES = ["runtime", "inline"] as const;
export type ProductsMode = (typeof PRODUCTS_MODES)[number];

/** Whether `v` is one of `values` (for checking options at run time). */
export const isOneOf = <T extends string>(values: readonly T[], v: unknown): v is T => (values as readonly unknown[]).includes(v);

// ---------------------------------------------------------------------------------------------
// Matrix products

/** The role of a product argument: a count, a typed array, an element offset or row stride in one, the accumulate flag. */
export type ProductArgRole = "count" | "array" | "offset" | "stride" | "acc";

export interface ProductArg {
  readonly name: string;
  readonly role: ProductArgRole;
}

const arg = <N extends string, R extends ProductArgRole>(name: N, role: R) => ({ name, role }) as const;

/** `array, offset, stride` of a strided operand (rows apart by `stride` elements). */
const strided = <A extends string, O extends string, S extends string>(a: A, o: O, s: S) =>
  [arg(a, "array"), arg(o, "offset"), arg(s, "stride")] as const;
/** `array, offset` of a contiguous operand. */
const contiguous = <A extends string, O extends string>(a: A, o: O) => [arg(a, "array"), arg(o, "offset")] as const;

/**
 * The three products, each called with 12 arguments. Offsets and strides count elements; `acc` 1
 * adds to the result instead of storing it.
 *
 *   nt  Y[m][n] (=|+=) Σ_k A[m][k] · W[n][k]   for m < rows, n < N: W `[N][K]` from `w0`
 *   nn  Y[m][k] (=|+=) Σ_n A[m][n] · W[n][k]   for m < rows, k < K: W `[N][K]` from `w0`
 *   tn  G[r][c] (=|+=) Σ_m A[m][r] · B[m][c]   for r < R, c < C: G `[R][C]` from `g0`
 *
 * The WebAssembly functions behind them take byte addresses instead of arrays and offsets, and
 * `tn`'s there always accumulates (the runtime zeroes G first when `acc` is 0).
 */
export const PRODUCTS = {
  nt: {
    args: [arg("rows", "count"), arg("N", "count"), arg("K", "count"), ...strided("A", "a0", "as"), ...contiguous("W", "w0"), ...strided("Y", "y0", "ys"), arg("acc", "acc")],
    wasmAcc: true,
  },
  nn: {
    args: [arg("rows", "count"), arg("N", "count"), arg("K", "count"), ...strided("A", "a0", "as"), ...contiguous("W", "w0"), ...strided("Y", "y0", "ys"), arg("acc", "acc")],
    wasmAcc: true,
  },
  tn: {
    args: [arg("rows", "count"), arg("R", "count"), arg("C", "count"), ...strided("A", "a0", "as"), ...strided("B", "b0", "bs"), ...contiguous("G", "g0"), arg("acc", "acc")],
    wasmAcc: false,
  },
} as const;

export type ProductName = keyof typeof PRODUCTS;
export const PRODUCT_NAMES = Object.keys(PRODUCTS) as ProductName[];

type ArgType<A> = A extends { readonly role: "array" } ? Real : number;
type Signature<Args extends readonly ProductArg[]> = (...args: { -readonly [K in keyof Args]: ArgType<Args[K]> }) => void;

// ---------------------------------------------------------------------------------------------
// Elementwise maps

/**
 * Functions the runtime applies to a run of elements at once, each called with 5 arguments:
 *
 *   sigmoid  Y[y0 + k] = 1 / (1 + exp(-A[a0 + k]))   for k < n
 *   tanh     Y[y0 + k] = tanh(A[a0 + k])
 *   exp      Y[y0 + k] = exp(A[a0 + k])
 *
 * A and Y may be the same run (in place); otherwise they do not overlap. Float32 kernels call
 * them instead of `Math` one element at a time; the WebAssembly functions behind them take byte
 * addresses instead of arrays and offsets.
 */
export const MAPS = {
  sigmoid: { args: [arg("n", "count"), ...contiguous("A", "a0"), ...contiguous("Y", "y0")] },
  tanh: { args: [arg("n", "count"), ...contiguous("A", "a0"), ...contiguous("Y", "y0")] },
  exp: { args: [arg("n", "count"), ...contiguous("A", "a0"), ...contiguous("Y", "y0")] },
} as const;

export type MapName = keyof typeof MAPS;
export const MAP_NAMES = Object.keys(MAPS) as MapName[];

/** The parameters of map `name`'s WebAssembly function: arrays become byte addresses, offsets go. */
export const wasmMapParams = (name: MapName): string[] => wasmParams(MAPS[name].args, false);

/** A call of map `name` in emitted code, `mm.sigmoid(n, A, a0, Y, y0)`: exactly its arguments, in order. */
export const mapCall = (name: MapName, args: readonly (string | number)[]): string => vectorCall("map", name, MAPS[name].args, args);

// ---------------------------------------------------------------------------------------------
// Elementwise loops over rows

/**
 * Loops of a kernel the runtime runs over `rows` rows of `n` elements, each strided operand rows
 * apart by its stride (a stride of 0 reads one row for every row):
 *
 *   add3    Y[y0 + m·ys + j] = (A[a0 + m·as + j] + B[b0 + m·bs + j]) + C[c0 + m·cs + j]
 *   colsum  G[g0 + j] += A[a0 + m·as + j]   for m = 0, 1, … rows − 1 in order
 *
 * each exactly the emitted JavaScript loop it replaces. add3 (a gate's pre-activation,
 * `Wf·x + Uf·h + bf`) sums in float64 and rounds the result once when stored; Y does not overlap
 * A, B or C. colsum (a bias gradient: the sum of a chunk's rows of a pre-activation's gradient)
 * adds one row at a time into G, each add rounded to the dtype as a typed array's `+=` rounds it;
 * G does not overlap A. Float32 kernels with runtime products call them; the WebAssembly
 * functions behind them take byte addresses instead of arrays and offsets.
 */
export const ROW_LOOPS = {
  add3: {
    args: [arg("rows", "count"), arg("n", "count"), ...strided("A", "a0", "as"), ...strided("B", "b0", "bs"), ...strided("C", "c0", "cs"), ...strided("Y", "y0", "ys")],
  },
  colsum: {
    args: [arg("rows", "count"), arg("n", "count"), ...strided("A", "a0", "as"), ...contiguous("G", "g0")],
  },
} as const;

export type RowLoopName = keyof typeof ROW_LOOPS;
export const ROW_LOOP_NAMES = Object.keys(ROW_LOOPS) as RowLoopName[];

/** The parameters of row loop `name`'s WebAssembly function: arrays become byte addresses, offsets go. */
export const wasmRowLoopParams = (name: RowLoopName): string[] => wasmParams(ROW_LOOPS[name].args, false);

/** A call of row loop `name` in emitted code, `mm.add3(rows, n, A, a0, as, …)`: exactly its arguments, in order. */
export const rowLoopCall = (name: RowLoopName, args: readonly (string | number)[]): string => vectorCall("row loop", name, ROW_LOOPS[name].args, args);

/**
 * The runtime's vector kernels an emitted kernel calls as `mm`: the products (see `PRODUCTS` for
 * what each computes), the elementwise maps (`MAPS`) and the row loops (`ROW_LOOPS`).
 */
export type Products = { readonly [P in ProductName]: Signature<(typeof PRODUCTS)[P]["args"]> } & {
  readonly [F in MapName]: Signature<(typeof MAPS)[F]["args"]>;
} & { readonly [L in RowLoopName]: Signature<(typeof ROW_LOOPS)[L]["args"]> } & {
  /**
   * Runs the cell's element loop `index` (`ElementLoops`) over `rows` rows, its operands each
   * array then the index of its row 0's first element, then the scalars (at most `LOOP_OPERANDS`); false when it did not
   * run (no WebAssembly, an operand overlapping one the loop writes), and the caller's loop runs.
   */
  readonly loop: (index: number, rows: number, ...operands: (Real | number)[]) => boolean;
};

/** The parameters of product `name`'s WebAssembly function: arrays become byte addresses, offsets go. */
export const wasmProductParams = (name: ProductName): string[] => wasmParams(PRODUCTS[name].args, PRODUCTS[name].wasmAcc);

/** A call of product `name` in emitted code, `mm.nt(rows, N, …)`: exactly its arguments, in order. */
export const productCall = (name: ProductName, args: readonly (string | number)[]): string => vectorCall("product", name, PRODUCTS[name].args, args);

/**
 * The parameters of a vector kernel's WebAssembly function, from its arguments: arrays become byte
 * addresses, offsets go, and so does the accumulate flag unless the function takes it (`acc`).
 */
function wasmParams(args: readonly ProductArg[], acc: boolean): string[] {
  return args.filter((a) => a.role !== "offset" && (a.role !== "acc" || acc)).map((a) => a.name);
}

/** A call in emitted code of vector kernel `name` (a product, map or row loop), `mm.name(…)`: exactly its arguments, in order. */
function vectorCall(kind: string, name: string, expected: readonly ProductArg[], args: readonly (string | number)[]): string {
  if (args.length !== expected.length) throw new Error(`internal error: ${kind} ${name} takes ${expected.length} arguments (${expected.map((a) => a.name).join(", ")}), not ${args.length}`);
  return `${KERNEL_PARAMETER.products}.${name}(${args.join(", ")})`;
}

// ---------------------------------------------------------------------------------------------
// Kernels

/**
 * What each kernel parameter is: a count (T steps, B sequences), a list of typed arrays (params P,
 * inputs X, state history S, outputs Y, tape R, gradients GY GS GP GX, workspace WS), the mask M,
 * the products mm, or a flag:
 *
 * - `GYrows`: for each output gradient in GY, the rows one step advances in it: B, or 0 for an
 *   output the caller gave no gradient (its array is zeros of one chunk's rows, `outputGradRows`);
 *
 * - `paramsChanged`: the values derived from params alone (stacked weights), which live in the
 *   workspace across calls, must be computed again (params changed, or the workspace is new);
 * - `inputGrads`: the backward computes the input gradients GX (else GX is empty and that work is
 *   skipped);
 * - `initialGrads`: the backward leaves the initial-state gradients in GS (else the gradient the
 *   first step would carry back is not computed, and GS holds scratch).
 */
export interface KernelParameterTypes {
  readonly T: number;
  readonly B: number;
  readonly P: readonly Real[];
  readonly X: readonly Real[];
  readonly S: readonly Real[];
  readonly Y: readonly Real[];
  readonly R: readonly Real[];
  readonly M: Uint8Array | undefined;
  readonly GY: readonly Real[];
  readonly GYrows: readonly number[];
  readonly GS: readonly Real[];
  readonly GP: readonly Real[];
  readonly GX: readonly Real[];
  readonly WS: readonly Real[];
  readonly mm: Products;
  readonly paramsChanged: boolean;
  readonly inputGrads: boolean;
  readonly initialGrads: boolean;
}
export type KernelParameterName = keyof KernelParameterTypes;

/** Each parameter's type as emitted TypeScript writes it (`Real` and `Products` are imported from the runtime). */
export const KERNEL_PARAMETER_TYPES: { readonly [K in KernelParameterName]: string } = {
  T: "number",
  B: "number",
  P: "readonly Real[]",
  X: "readonly Real[]",
  S: "readonly Real[]",
  Y: "readonly Real[]",
  R: "readonly Real[]",
  M: "Uint8Array | undefined",
  GY: "readonly Real[]",
  GYrows: "readonly number[]",
  GS: "readonly Real[]",
  GP: "readonly Real[]",
  GX: "readonly Real[]",
  WS: "readonly Real[]",
  mm: "Products",
  paramsChanged: "boolean",
  inputGrads: "boolean",
  initialGrads: "boolean",
};

/** The parameters of each kernel, in calling order. */
export const KERNEL_PARAMETERS = {
  forward: ["T", "B", "P", "X", "S", "Y", "R", "M", "WS", "mm", "paramsChanged"],
  backward: ["T", "B", "P", "X", "S", "Y", "R", "M", "GY", "GYrows", "GS", "GP", "GX", "WS", "mm", "paramsChanged", "inputGrads", "initialGrads"],
  step: ["B", "P", "X", "S", "Y", "WS", "mm", "paramsChanged"],
  infer: ["T", "B", "P", "X", "S", "Y", "M", "WS", "mm", "paramsChanged"],
} as const satisfies { readonly [K in KernelName]: readonly KernelParameterName[] };

/** Parameter names codegen refers to by role. */
export const KERNEL_PARAMETER = {
  workspace: "WS", products: "mm", mask: "M", outputGradRows: "GYrows", paramsChanged: "paramsChanged", inputGrads: "inputGrads", initialGrads: "initialGrads",
} as const satisfies Record<string, KernelParameterName>;

type Parameters_<Names extends readonly KernelParameterName[]> = { -readonly [K in keyof Names]: KernelParameterTypes[Names[K]] };

/** The kernels a compiled module hands `defineCell`, and its element loops as WebAssembly if it has any. */
export type Kernels = { readonly [K in KernelName]: (...args: Parameters_<(typeof KERNEL_PARAMETERS)[K]>) => void } & { readonly loops?: ElementLoops };

/**
 * A kernel's element loop as WebAssembly (`compiler/wasm/loops.ts`), as its call `mm.loop(k, rows,
 * array, base, …, scalar, …)` passes it: for each array, the elements from one row to the next
 * (0: the same row for all), how many elements of a row the loop touches, and whether it reads and
 * writes them; then how many float64 scalars follow.
 */
export interface ElementLoopShape {
  readonly arrays: readonly { readonly stride: number; readonly width: number; readonly reads: boolean; readonly writes: boolean }[];
  readonly scalars: number;
}

/** A cell's element loops: a WebAssembly module (base64) whose function `loop<k>` is loop k, over an arena's memory, and their shapes. */
export interface ElementLoops {
  readonly wasm: string;
  readonly shapes: readonly ElementLoopShape[];
}

// ---------------------------------------------------------------------------------------------
// The cell spec

export interface TensorSpec<N extends string = string> {
  readonly name: N;
  /** Declared shape: `[rows, cols]` for a matrix, `[n]` for a vector, `[]` for a scalar param. */
  readonly shape: readonly number[];
  /** Elements per step and batch entry (the product of `shape`). */
  readonly size: number;
  /** A param's initial values as the cell declares them (`param g[H] = 1`); absent: PyTorch's default. */
  readonly init?: ParamInit;
}

/**
 * How a param starts: every element `value`; a random orthogonal matrix (rows or columns
 * orthonormal); Glorot/Xavier uniform (±√(6 / (rows + cols))); uniform on [low, high); normal.
 */
export type ParamInit =
  | { readonly kind: "constant"; readonly value: number }
  | { readonly kind: "orthogonal" }
  | { readonly kind: "xavier" }
  | { readonly kind: "uniform"; readonly low: number; readonly high: number }
  | { readonly kind: "normal"; readonly mean: number; readonly std: number };

export interface WorkspaceSpec {
  readonly size: number;
  readonly rows: RowKind;
  /**
   * The one kernel that uses this buffer (`SCRATCH_GROUP`: `infer` counts as `forward`); such
   * buffers share memory with other kernels' own.
   */
  readonly kernel?: KernelName;
  /**
   * A buffer of values derived from params alone (a stacked weight): the kernels that compute it
   * when called with `paramsChanged`. It keeps its values across calls and shares no memory.
   */
  readonly derived?: readonly KernelName[];
}

export interface StagingSpec {
  readonly fixed: number;
  readonly B: number;
  readonly TB: number;
}

/** What a compiled cell is: the value an emitted module declares as `spec` and `defineCell` reads. */
export interface CellSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly sizes: Readonly<Record<string, number>>;
  readonly params: readonly TensorSpec[];
  readonly inputs: readonly TensorSpec[];
  readonly states: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /**
   * The arrays the forward pass stores per step and batch entry for the backward pass: a value
   * each, or (float32 kernels with runtime maps) the taped values of one map call side by side.
   */
  readonly tape: readonly TensorSpec[];
  /**
   * Scratch the kernels need per call: `size` numbers once, per batch entry, or per step and batch
   * entry. A buffer with a `kernel` is used by that kernel alone, and shares memory with the
   * buffers of the other kernels.
   */
  readonly workspace: readonly WorkspaceSpec[];
  /**
   * The most numbers one call into the runtime's products may copy in (operands not in the
   * workspace): `fixed`, plus `B` per batch entry, plus `TB` per step and batch entry.
   */
  readonly staging?: StagingSpec;
}

/** The spec without its sizes, as an emitted module declares it (`sizes` is its own export). */
export type SpecWithoutSizes = Omit<CellSpec, "sizes">;

// ---------------------------------------------------------------------------------------------
// Names in an emitted module

/** What an emitted module imports from the runtime besides the op helpers: values, then types. */
export const RUNTIME_IMPORTS = { values: ["defineCell"], types: ["Arrays", "CellSpec", "Products", "Real"] } as const;

/** What an emitted module declares at top level. */
export const MODULE_DECLARATIONS = ["sizes", "spec", ...KERNELS, "loops", "cell"] as const;

/** Every name an emitted module's own code binds or imports, besides op helpers and cell-derived names. */
export const MODULE_NAMES: readonly string[] = [
  ...RUNTIME_IMPORTS.values,
  ...RUNTIME_IMPORTS.types,
  ...MODULE_DECLARATIONS,
  ...Object.keys(KERNEL_PARAMETER_TYPES),
];

/**
 * What the loaders bind around a module's code: the function form that `compile()` runs takes the
 * runtime as `runtime`; a CommonJS form has `require`, `exports` and `module`, and `__esModule`
 * is the flag it sets.
 */
export const LOADER_BINDINGS = ["runtime", "require", "exports", "module", "__esModule", "__filename", "__dirname"] as const;
