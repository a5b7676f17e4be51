/**
 * What `rnnc build` writes for each compiled cell, made on a second thread: ts-morph and prettier
 * are loaded there (`build-worker.ts`) while this thread compiles, and each module is printed and
 * formatted there as soon as its cell is compiled. The text is the same as `buildFiles`' (the same
 * functions make it); only the thread differs. Run from the TypeScript sources (no compiled worker
 * beside this file), it all happens on this thread instead, through `build.ts`.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { EmitKind } from "./build.js";
import { renderDeclarations, renderJavaScript, type CellModule } from "./codegen/module.js";
import { typescriptParts, type TypeScriptParts } from "./codegen/typescript-parts.js";

/** A job of the worker: print a TypeScript module from its parts and format it, or format a text. */
export type BuildJob =
  | { readonly id: number; readonly kind: "typescript"; readonly parts: TypeScriptParts }
  | { readonly id: number; readonly kind: "format"; readonly text: string };

/** The worker's answer: the formatted text, or what went wrong. */
export type BuildReply = { readonly id: number; readonly text: string } | { readonly id: number; readonly error: string };

export interface BuiltFile {
  readonly extension: string;
  readonly text: string;
}

/** Makes the files of compiled cells; `close` stops its thread (jobs still running are dropped). */
export interface FileBuilder {
  /** The files `rnnc build --emit KIND` writes for a cell, by extension, formatted. */
  files(cell: { readonly module: CellModule }, emit: EmitKind): Promise<BuiltFile[]>;
  close(): Promise<void>;
}

const WORKER = new URL("./build-worker.js", import.meta.url);

/** A builder whose thread starts loading ts-morph and prettier now. */
export function startFileBuilder(): FileBuilder {
  return existsSync(fileURLToPath(WORKER)) ? threadBuilder() : inProcessBuilder();
}

function inProcessBuilder(): FileBuilder {
  return {
    files: async (cell, emit) => (await import("./build.js")).buildFiles(cell, emit),
    close: async () => {},
  };
}

function threadBuilder(): FileBuilder {
  const worker = new Worker(WORKER);
  const pending = new Map<number, { resolve(text: string): void; reject(e: Error): void }>();
  let next = 0;
  let closed = false;
  // The thread keeps the process alive only while it has work.
  const hold = () => (pending.size > 0 ? worker.ref() : worker.unref());
  const failAll = (e: Error) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on("message", (r: BuildReply) => {
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    hold();
    if ("error" in r) p.reject(new Error(`formatting a module failed: ${r.error}`));
    else p.resolve(r.text);
  });
  worker.on("error", (e: Error) => failAll(new Error(`the build thread failed: ${e.message}`)));
  worker.on("exit", (code: number) => closed || failAll(new Error(`the build thread exited with code ${code}`)));
  hold();
  const run = (job: { kind: "typescript"; parts: TypeScriptParts } | { kind: "format"; text: string }): Promise<string> => {
    if (closed) return Promise.reject(new Error("the build thread is closed"));
    const id = next++;
    const done = new Promise<string>((resolve, reject) => pending.set(id, { resolve, reject }));
    worker.postMessage({ id, ...job } satisfies BuildJob);
    hold();
    return done;
  };
  return {
    async files(cell, emit) {
      const m = cell.module;
      if (emit === "ts") return [{ extension: ".ts", text: await run({ kind: "typescript", parts: typescriptParts(m) }) }];
      const [js, dts] = await Promise.all([
        run({ kind: "format", text: renderJavaScript(m, "module") }),
        run({ kind: "format", text: renderDeclarations(m) }),
      ]);
      return [{ extension: ".js", text: js }, { extension: ".d.ts", text: dts }];
    },
    async close() {
      if (closed) return;
      closed = true;
      pending.clear();
      await worker.terminate();
    },
  };
}
