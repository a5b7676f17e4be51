/**
 * Vitest's global setup: one temporary folder for the whole run, where the test files that
 * install the packed package share one build of it (`packOnce` in pack.ts). Only a folder is made
 * here, so a run without those files costs nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's folder for the packed package. */
    readonly packDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "rnnc-packed-"));
  project.provide("packDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
