/**
 * rnnc in a browser: esbuild bundles pages (platform "browser", so a Node built-in anywhere in
 * the runtime, the training runtime or the compiler is a build error), node:http serves them, and
 * headless Chromium runs a generated kernel forward and backward, a few training steps with
 * rnnc/train and a cell compiled by compile() in the page. Both run the same JavaScript and the
 * same WebAssembly, so float32 numbers must equal Node's bit for bit. Float64 numbers may differ
 * in the last bits: the two V8s do not round Math's functions alike (Node 20's V8 11.3 and
 * Chromium 156's V8 differ in the last bit of Math.exp for about 7 arguments in 100, of log, sin,
 * cos and pow for 2–10 in 100, of tanh, expm1 and log1p for fewer than 1 in 1,000; sqrt agrees),
 * and a float32 kernel rounds such a difference away where a float64 one carries it on. Float64
 * numbers are compared within 1e-12 of the largest magnitude of their tensor, and bit for bit once
 * both sides compute exp, expm1 and tanh (the only ones the compiled cell calls) with the same
 * JavaScript functions (browser/same-math.ts).
 *
 * The pages are served under the Content-Security-Policies the README describes: with
 * 'unsafe-eval' everything runs; without it, compile() is refused but kernels and training run;
 * without 'wasm-unsafe-eval' too, the products fall back to plain loops (equal to Node's).
 *
 * Chromium: $CHROMIUM, default /usr/bin/chromium (Debian's package; .ci/run installs it). When it
 * cannot start, these tests fail with CI set and are skipped otherwise, saying why.
 */

import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Numbers } from "./browser/kernel.js";

const CHROMIUM = process.env["CHROMIUM"] ?? "/usr/bin/chromium";
const FIXTURES = new URL("./browser/", import.meta.url).pathname;

/** What a page reports: whether SIMD products run, and each part's numbers or error. */
interface Report {
  readonly simd: boolean;
  readonly kernel?: Outcome<Numbers>;
  readonly training?: Outcome<{ numbers: Numbers; saved: string }>;
  readonly compiled?: Outcome<Numbers>;
  readonly compiledSameMath?: Outcome<Numbers>;
}
type Outcome<T> = { readonly ok: T } | { readonly error: string };

/** The page's entry: wait for the products (as a page should), run each part, publish the report. */
const entry = (parts: readonly ("kernel" | "training" | "compiled")[]): string => `
import { productsReady, simdAvailable } from "../../src/runtime/index.js";
${parts.includes("kernel") ? 'import { kernelNumbers } from "./kernel.js";' : ""}
${parts.includes("training") ? 'import { trainingNumbers } from "./training.js";' : ""}
${parts.includes("compiled") ? 'import { compiledNumbers, compiledNumbersSameMath } from "./compiled.js";' : ""}
const attempt = (run) => {
  try { return { ok: run() }; } catch (e) { return { error: e instanceof Error ? e.name + ": " + e.message : String(e) }; }
};
await productsReady();
globalThis.report = {
  simd: simdAvailable(),
  ${parts.includes("kernel") ? "kernel: attempt(kernelNumbers)," : ""}
  ${parts.includes("training") ? "training: attempt(() => trainingNumbers())," : ""}
  ${parts.includes("compiled") ? "compiled: attempt(compiledNumbers), compiledSameMath: attempt(compiledNumbersSameMath)," : ""}
};
`;

const PAGES = {
  kernel: entry(["kernel"]),
  training: entry(["kernel", "training"]),
  compiled: entry(["kernel", "training", "compiled"]),
} as const;
type PageName = keyof typeof PAGES;

const POLICIES = {
  none: undefined,
  eval: "default-src 'self'; script-src 'self' 'unsafe-eval'",
  wasm: "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'",
  strict: "default-src 'self'; script-src 'self'",
} as const;
type PolicyName = keyof typeof POLICIES;

/** Bundles each page into `dir/<page>/page.js` (minified, as a site would ship it); returns sizes in bytes. */
async function bundlePages(dir: string): Promise<Record<PageName, number>> {
  const sizes: Partial<Record<PageName, number>> = {};
  for (const [name, contents] of Object.entries(PAGES) as [PageName, string][]) {
    const outfile = join(dir, name, "page.js");
    await build({
      stdin: { contents, resolveDir: FIXTURES, sourcefile: `${name}-page.js`, loader: "js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      outfile,
      logLevel: "silent",
    });
    sizes[name] = statSync(outfile).size;
  }
  return sizes as Record<PageName, number>;
}

/** Serves `/<page>/` (HTML under the policy named by `?csp=`) and `/<page>/page.js` from `dir`. */
function serve(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const [page, file] = url.pathname.split("/").filter((p) => p !== "");
    if (page === undefined || !(page in PAGES)) return void response.writeHead(404).end();
    if (file === "page.js") {
      response.writeHead(200, { "content-type": "text/javascript" });
      return void response.end(readFileSync(join(dir, page, "page.js")));
    }
    const policy = POLICIES[(url.searchParams.get("csp") ?? "none") as PolicyName];
    response.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      ...(policy === undefined ? {} : { "content-security-policy": policy }),
    });
    response.end(`<!doctype html><meta charset="utf-8"><title>${page}</title><script type="module" src="page.js"></script>`);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` });
    }),
  );
}

/**
 * Node's numbers from a fresh copy of the modules, products as SIMD or as plain loops. The copy is
 * dropped after, so that the files run next in this worker import the runtime as it starts.
 */
async function nodeReport(simd: boolean): Promise<Required<Report>> {
  vi.resetModules();
  try {
    const runtime = await import("../src/runtime/index.js");
    runtime.useSimd(simd);
    const { kernelNumbers } = await import("./browser/kernel.js");
    const { trainingNumbers } = await import("./browser/training.js");
    const { compiledNumbers, compiledNumbersSameMath } = await import("./browser/compiled.js");
    return {
      simd: simd && runtime.simdAvailable(),
      kernel: { ok: kernelNumbers() },
      training: { ok: trainingNumbers({ stream: { write: () => true } }) },
      compiled: { ok: compiledNumbers() },
      compiledSameMath: { ok: compiledNumbersSameMath() },
    };
  } finally {
    vi.resetModules();
  }
}

/** Each number as the 16 hex digits of its float64 bits: equal strings mean equal bits. */
const bits = (numbers: Numbers): Record<string, string[]> => {
  const view = new DataView(new ArrayBuffer(8));
  const hex = (x: number) => (view.setFloat64(0, x), view.getBigUint64(0).toString(16).padStart(16, "0"));
  return Object.fromEntries(Object.entries(numbers).map(([name, values]) => [name, values.map(hex)]));
};

/**
 * Browser and Node numbers agree: bit for bit, except tensors named "f64 …" (float64 cells), whose
 * numbers may differ by 1e-12 of the tensor's largest magnitude (see the top of this file).
 */
function expectAgree(browser: Numbers, node: Numbers): { differ: number; of: number } {
  const exact = (numbers: Numbers) => bits(Object.fromEntries(Object.entries(numbers).filter(([k]) => !k.startsWith("f64 "))));
  expect(exact(browser)).toEqual(exact(node));
  expect(Object.keys(browser).sort()).toEqual(Object.keys(node).sort());
  const counts = { differ: 0, of: 0 };
  for (const [name, expected] of Object.entries(node)) {
    if (!name.startsWith("f64 ")) continue;
    const actual = browser[name]!;
    counts.of += expected.length;
    counts.differ += expected.filter((e, i) => !Object.is(e, actual[i])).length;
    const scale = Math.max(...expected.map(Math.abs));
    const far = actual.findIndex((a, i) => !(Math.abs(a - expected[i]!) <= 1e-12 * scale));
    if (far >= 0) expect.fail(`${name}[${far}]: browser ${actual[far]}, Node ${expected[far]}`);
  }
  return counts;
}

const ok = <T>(outcome: Outcome<T> | undefined): T => {
  if (outcome === undefined) throw new Error("the page did not run this part");
  if ("error" in outcome) throw new Error(`the page failed: ${outcome.error}`);
  return outcome.ok;
};

const launched: { browser: Browser } | { error: string } = await chromium
  .launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] })
  .then(
    (browser) => ({ browser }),
    (e: unknown) => ({ error: e instanceof Error ? e.message.split("\n")[0]! : String(e) }),
  );
let dir = "";
let sizes: Record<PageName, number>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rnnc-browser-"));
  sizes = await bundlePages(dir);
}, 120_000);

afterAll(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("browser bundles", () => {
  it("bundle the kernel, the training runtime and compile() without Node built-ins", () => {
    console.info(
      `browser bundles, minified: kernel ${sizes.kernel} B, kernel + training ${sizes.training} B, with compile() ${sizes.compiled} B`,
    );
    // The runtime and a kernel are tens of kilobytes (most of it the WebAssembly products as
    // base64, ~44 kB), the training runtime adds about as much. The LSTM's kernels are ~10 kB of
    // it, their element loops written out four elements a pass (3 kB more than one a pass), and
    // the same loops as the cell's WebAssembly ~9 kB more (3.6 kB of module as base64, and each
    // loop's operands).
    expect(sizes.kernel).toBeLessThan(86 * 1024);
    expect(sizes.training - sizes.kernel).toBeLessThan(64 * 1024);
    expect(sizes.compiled).toBeGreaterThan(sizes.training);
  });

  it("refuse a module that needs Node (rnnc/train/node, which writes files)", async () => {
    const bundle = build({
      entryPoints: [new URL("../src/train/node.ts", import.meta.url).pathname],
      bundle: true,
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    await expect(bundle).rejects.toThrow(/Could not resolve "node:fs"/);
  });
});

const inCi = process.env["CI"] !== undefined && process.env["CI"] !== "" && process.env["CI"] !== "false";
if ("error" in launched && !inCi) {
  console.warn(`tests/browser.test.ts skipped: cannot start Chromium (${CHROMIUM}): ${launched.error}`);
}

// A page with compile() loads 7 MB of JavaScript (the TypeScript compiler): allow it time on a busy machine.
describe.skipIf("error" in launched && !inCi)("rnnc in headless Chromium", { timeout: 180_000 }, () => {
  let server: Server | undefined;
  let base = "";
  let simdNode: Required<Report>;
  let plainNode: Required<Report>;

  beforeAll(async () => {
    if ("error" in launched) throw new Error(`cannot start Chromium (${CHROMIUM}): ${launched.error}`);
    ({ server, url: base } = await serve(dir));
    simdNode = await nodeReport(true);
    plainNode = await nodeReport(false);
  }, 180_000);

  afterAll(async () => {
    if ("browser" in launched) await launched.browser.close();
    server?.close();
  });

  /** Opens a page under a policy; returns its report and what it wrote to the console. */
  async function open(page: PageName, csp: PolicyName): Promise<{ report: Report; console: string[] }> {
    if (!("browser" in launched)) throw new Error("no browser");
    const tab = await launched.browser.newPage();
    const lines: string[] = [];
    const errors: string[] = [];
    tab.on("console", (message) => lines.push(message.text()));
    tab.on("pageerror", (error) => errors.push(error.message));
    try {
      await tab.goto(`${base}/${page}/?csp=${csp}`);
      await tab.waitForFunction(
        () => (globalThis as { report?: unknown }).report !== undefined,
        null,
        { timeout: 150_000, polling: 100 },
      ).catch((e: unknown) => {
        throw new Error(`the page reported nothing${errors.length > 0 ? `: ${errors.join("; ")}` : ""} (${String(e)})`);
      });
      const report = await tab.evaluate(() => (globalThis as unknown as { report: Report }).report);
      return { report, console: lines };
    } finally {
      await tab.close();
    }
  }

  it("runs a generated kernel forward and backward with SIMD products, equal to Node bit for bit", async () => {
    const { report } = await open("kernel", "none");
    expect(report.simd).toBe(true);
    expect(simdNode.simd).toBe(true);
    expect(bits(ok(report.kernel))).toEqual(bits(ok(simdNode.kernel)));
  });

  it("trains with rnnc/train as Node does, fit's progress going to the console", async () => {
    const { report, console: lines } = await open("training", "none");
    const training = ok(report.training);
    expect(bits(training.numbers)).toEqual(bits(ok(simdNode.training).numbers));
    expect(training.saved).toBe(ok(simdNode.training).saved);
    const losses = training.numbers["losses"]!;
    expect(losses).toHaveLength(6); // 3 epochs of 2 batches; each batch's loss falls epoch after epoch
    for (let k = 2; k < 6; k++) expect(losses[k]).toBeLessThan(losses[k - 2]!);
    // Plain lines (no terminal): half way, all the way, and the final line with the time taken.
    expect(lines).toHaveLength(9);
    expect(lines.at(-1)).toMatch(/^epoch 3\/3 {2}\[#{24}\] {2}2\/2 {2}100% {2}loss \d\.\d{4} {2}\d+\.\ds$/);
  });

  it("compiles a cell in the page and runs it, equal to compile() in Node ('unsafe-eval' is enough)", async () => {
    const { report } = await open("compiled", "eval");
    expect(report.simd).toBe(true);
    const { differ, of } = expectAgree(ok(report.compiled), ok(simdNode.compiled));
    console.info(`compile() in the page: float32 numbers equal Node's; ${differ} of ${of} float64 numbers differ in the last bits`);
    // The difference is Math's: with one exp, expm1 and tanh in both, every number is equal.
    expect(bits(ok(report.compiledSameMath))).toEqual(bits(ok(simdNode.compiledSameMath)));
    expect(bits(ok(report.kernel))).toEqual(bits(ok(simdNode.kernel)));
  });

  it("without 'unsafe-eval': kernels and training run with SIMD, compile() is refused", async () => {
    const { report } = await open("compiled", "wasm");
    expect(report.simd).toBe(true);
    expect(bits(ok(report.kernel))).toEqual(bits(ok(simdNode.kernel)));
    expect(bits(ok(report.training).numbers)).toEqual(bits(ok(simdNode.training).numbers));
    expect(report.compiled).toEqual({ error: expect.stringMatching(/^EvalError: .*unsafe-eval/) });
  });

  it("without 'wasm-unsafe-eval' either: the products run as plain loops, equal to Node's plain loops", async () => {
    const { report } = await open("compiled", "strict");
    expect(report.simd).toBe(false);
    expect(plainNode.simd).toBe(false);
    expect(bits(ok(report.kernel))).toEqual(bits(ok(plainNode.kernel)));
    expect(bits(ok(report.training).numbers)).toEqual(bits(ok(plainNode.training).numbers));
    expect(report.compiled).toEqual({ error: expect.stringMatching(/^EvalError: .*unsafe-eval/) });
    // Plain loops sum in another order than the SIMD products: the numbers differ in the last bits.
    expect(bits(ok(plainNode.kernel))).not.toEqual(bits(ok(simdNode.kernel)));
  });
});
