/**
 * Vitest's global setup: one temporary folder for the whole run, where test files share what is
 * costly to make (once.ts): the packed package, the Python with PyTorch. Only the folder is made
 * here, so a run without those files costs nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's folder for what test files share. */
    readonly runDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "rnnc-run-"));
  project.provide("runDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
