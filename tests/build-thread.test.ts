/**
 * `rnnc build` prints and formats its modules on two more threads, or one on a busy machine
 * (`compiler/build-thread.ts`, the compiled `dist/` one: from the TypeScript sources there is no
 * compiled worker to start).
 * What it makes is what `buildFiles` makes on this thread, byte for byte; a job that fails is
 * reported, not lost; a closed builder takes no more work.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFiles } from "../compiler/build.js";
import type { FileBuilder } from "../compiler/build-thread.js";
import { compileSource } from "../compiler/index.js";

const dist = (p: string) => pathToFileURL(join(process.cwd(), "dist", p)).href;
let builder: FileBuilder;
let alone: FileBuilder;

beforeAll(async () => {
  expect(existsSync(join(process.cwd(), "dist/compiler/build-worker.js")), "dist/ is missing: run npm run build").toBe(true);
  const { startFileBuilder } = (await import(/* @vite-ignore */ dist("compiler/build-thread.js"))) as typeof import("../compiler/build-thread.js");
  builder = startFileBuilder(2);
  alone = startFileBuilder(1);
});

afterAll(() => Promise.all([builder.close(), alone.close()]));

describe("the build thread", () => {
  const cells = ["mingru", "gru"].flatMap((name) =>
    compileSource(readFileSync(`examples/cells/${name}.cell`, "utf8"), { path: `examples/cells/${name}.cell`, runtime: "../src/runtime/index.js" }));

  it("makes the files buildFiles makes, for --emit ts and --emit js, several at once", async () => {
    const jobs = cells.flatMap((c) => (["ts", "js"] as const).map((emit) => ({ c, emit, files: builder.files(c, emit) })));
    for (const { c, emit, files } of jobs) expect(await files, `${c.name} --emit ${emit}`).toEqual(await buildFiles(c, emit));
  }, 60_000);

  it("with the printer alone (a busy machine), makes the same files", async () => {
    const jobs = cells.flatMap((c) => (["ts", "js"] as const).map((emit) => ({ c, emit, files: alone.files(c, emit) })));
    for (const { c, emit, files } of jobs) expect(await files, `${c.name} --emit ${emit}`).toEqual(await buildFiles(c, emit));
  }, 60_000);

  it("writes the golden module of a cell", async () => {
    const [ts] = await builder.files(cells[0]!, "ts");
    expect(ts!.text).toBe(readFileSync("generated/mingru.ts", "utf8"));
  }, 60_000);

  it("reports a module that cannot be formatted, and goes on with the next", async () => {
    const broken = { ...cells[0]!.module, kernels: [{ ...cells[0]!.module.kernels[0]!, body: "let = ;", typescript: () => "let = ;" }] };
    await expect(builder.files({ module: broken }, "ts")).rejects.toThrow(/formatting a module failed/);
    await expect(builder.files({ module: broken }, "js")).rejects.toThrow(/formatting a module failed/);
    expect((await builder.files(cells[0]!, "ts"))[0]!.text).toBe(readFileSync("generated/mingru.ts", "utf8"));
  }, 60_000);

  it("takes no work once closed", async () => {
    const { startFileBuilder } = (await import(/* @vite-ignore */ dist("compiler/build-thread.js"))) as typeof import("../compiler/build-thread.js");
    const other = startFileBuilder();
    await other.close();
    await expect(other.files(cells[0]!, "ts")).rejects.toThrow(/closed/);
  });
});
