/**
 * Every limit the compiler enforces on its input, in one place: the parser, the checker and the
 * diagnostics read them from here, the README lists them, and the tests build cells exactly at
 * them. Each is far above what a real cell needs and low enough that every later stage (lowering,
 * autodiff, the passes, code generation, TypeScript and prettier on the emitted module) runs in
 * Node's default stack and in bounded time and memory.
 */

/** Brackets, calls and prefix minus nested inside one another in one expression. */
export const MAX_NESTING = 200;

/** Operations written in one statement (an equation, an output, a size). */
export const MAX_OPERATIONS = 1000;

/**
 * The longest chain of operations in one step: from the leaves (inputs, params, previous states,
 * constants) to any value, counting through the locals and states earlier equations assign. The
 * backward pass of a step is about twice as deep, and emitted code nests as deep as the chain.
 */
export const MAX_DEPTH = 128;

/** Equations and outputs in one cell. */
export const MAX_EQUATIONS = 256;

/** The value of one size (a declared default, an override, or a dimension written as a number). */
export const MAX_SIZE = 2 ** 24;

/** Elements of one tensor: the product of its dimensions, for declarations and every value computed. */
export const MAX_ELEMENTS = 2 ** 26;

/** Characters of one name. */
export const MAX_NAME_LENGTH = 256;

/** Errors reported for one file; after them compilation stops with a note saying so. */
export const MAX_ERRORS = 50;

/** Characters of a source line shown under a diagnostic; a longer line is shown around the caret. */
export const SNIPPET_WIDTH = 120;

/** `rnnc eval`: steps (T) and sequences (B) in one data file. */
export const MAX_STEPS = 2 ** 24;
export const MAX_BATCH = 2 ** 24;

/** `rnnc eval`: numbers held for one evaluation (T·B per step tensors, tape and workspace). */
export const MAX_EVAL_ELEMENTS = 2 ** 22;
