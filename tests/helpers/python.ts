/**
 * The Python with PyTorch that the tests compare with (`findPython`), looked for once per test run
 * and shared by the files that need it: each look starts Python and imports torch, seconds of CPU.
 */
import { inject } from "vitest";
import { findPython, type PythonWithTorch } from "../../examples/pytorch-ddp/python.js";
import { once } from "./once.js";

export const pythonOnce = (): Promise<PythonWithTorch | { readonly missing: string }> => once(inject("runDir"), "python", () => findPython());
