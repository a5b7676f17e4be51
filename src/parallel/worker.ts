/** A parallel cell's worker in a browser (a module worker started by `rnnc/parallel`). */
import { serve, type Port } from "./serve.js";
import type { Task } from "./protocol.js";

const scope = globalThis as unknown as Port & { onmessage: ((event: { data: Task }) => void) | null };
const handle = serve(scope);
scope.onmessage = (event) => void handle(event.data);
