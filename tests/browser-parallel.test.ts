/**
 * `rnnc/parallel` in headless Chromium. esbuild bundles the page and the worker (platform
 * "browser": a Node built-in in either is a build error); node:http serves them with an emitted
 * LSTM module and the runtime it imports. Served cross-origin isolated (COOP same-origin, COEP
 * require-corp), the page runs its lanes in two module workers; served without, the same lanes run
 * on the page's thread. Either way the outputs and input gradients equal the cell's own bit for
 * bit, param gradients agree to 1e-5 (float32), and both pages compute the same numbers to the bit.
 *
 * Chromium: $CHROMIUM, default /usr/bin/chromium; without one the tests are skipped (CI: fail).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emitModules } from "../src/api.js";
import type { Numbers, ParallelReport } from "./browser/parallel.js";

const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
const FIXTURES = new URL("./browser/", import.meta.url).pathname;
const FILES = ["page.js", "worker.js", "runtime.js", "lstm.js"] as const;

const launched: { browser: Browser } | { error: string } = await chromium
  .launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })
  .then(
    (browser) => ({ browser }),
    (e: unknown) => ({ error: e instanceof Error ? e.message.split("\n")[0]! : String(e) }),
  );
const inCi = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false";
if ("error" in launched && !inCi) console.warn(`tests/browser-parallel.test.ts skipped: cannot start Chromium (${CHROMIUM}): ${launched.error}`);

/** Bundles the page, the worker and the runtime into `dir`, and writes the emitted LSTM beside them. */
async function bundle(dir: string): Promise<void> {
  const common = { bundle: true, format: "esm", platform: "browser", target: "es2022", logLevel: "silent" } as const;
  const page = 'import { parallelNumbers } from "./parallel.js"; globalThis.report = await parallelNumbers().catch((e) => ({ error: String(e) }));';
  await build({ ...common, stdin: { contents: page, resolveDir: FIXTURES, loader: "ts" }, outfile: join(dir, "page.js") });
  await build({ ...common, entryPoints: [new URL("../src/parallel/worker.ts", import.meta.url).pathname], outfile: join(dir, "worker.js") });
  await build({ ...common, entryPoints: [new URL("../src/runtime/index.ts", import.meta.url).pathname], outfile: join(dir, "runtime.js") });
  const lstm = readFileSync(new URL("../examples/cells/lstm.cell", import.meta.url), "utf8");
  const emitted = await emitModules(lstm, { path: "lstm.cell", dtype: "f32", lang: "js", runtime: "./runtime.js" });
  writeFileSync(join(dir, "lstm.js"), emitted.modules[0]!.code);
}

/** `/isolated/…` with the cross-origin isolation headers, `/plain/…` without; the same files. */
function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const [mode, file] = new URL(request.url ?? "/", "http://localhost").pathname.split("/").filter((p) => p !== "");
    if (mode !== "isolated" && mode !== "plain") return void response.writeHead(404).end();
    const headers = mode === "isolated" ? { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" } : {};
    if (file === undefined) {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8", ...headers });
      return void response.end('<!doctype html><meta charset="utf-8"><title>parallel</title><script type="module" src="page.js"></script>');
    }
    if (!(FILES as readonly string[]).includes(file)) return void response.writeHead(404).end();
    response.writeHead(200, { "content-type": "text/javascript", ...headers });
    response.end(readFileSync(join(dir, file)));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
    }),
  );
}

const bits = (numbers: Numbers) => {
  const view = new DataView(new ArrayBuffer(8));
  const hex = (x: number) => (view.setFloat64(0, x), view.getBigUint64(0).toString(16).padStart(16, "0"));
  return Object.fromEntries(Object.entries(numbers).map(([name, values]) => [name, values.map(hex)]));
};

/** Everything but the param gradients is the cell's own to the bit; param gradients to 1e-5. */
function expectSame(one: Numbers, two: Numbers): void {
  const besides = (n: Numbers) => bits(Object.fromEntries(Object.entries(n).filter(([k]) => !k.startsWith("grads."))));
  expect(besides(two)).toEqual(besides(one));
  expect(Object.keys(two).sort()).toEqual(Object.keys(one).sort());
  for (const [name, a] of Object.entries(one)) {
    if (!name.startsWith("grads.")) continue;
    const b = two[name]!;
    const worst = Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / Math.max(1, Math.abs(x))));
    expect(worst, name).toBeLessThanOrEqual(1e-5);
  }
}

describe.skipIf("error" in launched && !inCi)("rnnc/parallel in headless Chromium", { timeout: 180_000 }, () => {
  let dir = "";
  let server: Server | undefined;
  let base = "";
  beforeAll(async () => {
    if ("error" in launched) throw new Error(`cannot start Chromium (${CHROMIUM}): ${launched.error}`);
    dir = mkdtempSync(join(tmpdir(), "rnnc-browser-parallel-"));
    await bundle(dir);
    ({ server, url: base } = await serve(dir));
  }, 120_000);
  afterAll(async () => {
    if ("browser" in launched) await launched.browser.close();
    server?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  async function open(mode: "isolated" | "plain"): Promise<ParallelReport> {
    if (!("browser" in launched)) throw new Error("no browser");
    const tab = await launched.browser.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(error.message));
    try {
      await tab.goto(`${base}/${mode}/`);
      await tab
        .waitForFunction(() => (globalThis as { report?: unknown }).report !== undefined, null, { timeout: 150_000, polling: 100 })
        .catch((e: unknown) => {
          throw new Error(`the page reported nothing${errors.length > 0 ? `: ${errors.join("; ")}` : ""} (${String(e)})`);
        });
      const report = await tab.evaluate(() => (globalThis as unknown as { report: ParallelReport | { error: string } }).report);
      if ("error" in report) throw new Error(`the page failed: ${report.error}`);
      return report;
    } finally {
      await tab.close();
    }
  }

  let isolated: ParallelReport;
  it("a cross-origin-isolated page runs the lanes in two workers, giving the cell's numbers", async () => {
    isolated = await open("isolated");
    expect([isolated.isolated, isolated.workers, isolated.fallback]).toEqual([true, true, undefined]);
    expectSame(isolated.one, isolated.two);
  });

  it("a page that is not isolated runs the same lanes on its own thread, to the same bits", async () => {
    const plain = await open("plain");
    expect([plain.isolated, plain.workers]).toEqual([false, false]);
    expect(plain.fallback).toMatch(/^the page is not cross-origin isolated/u);
    expectSame(plain.one, plain.two);
    expect(bits(plain.two)).toEqual(bits(isolated.two));
  });
});
