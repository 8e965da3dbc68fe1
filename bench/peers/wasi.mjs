// Peer runner for WASI programs (scripts/llama-bench.sh): runs a wasm32-wasi command in
// node's V8 with node:wasi (preview1), the directory DIR granted as ".", no environment.
//
// usage: node wasi.mjs <module.wasm> <dir> <arg>...   (exit status = the program's)
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";

const [path, dir, ...args] = process.argv.slice(2);
if (!path || !dir) {
  process.stderr.write("usage: node wasi.mjs <module.wasm> <dir> <arg>...\n");
  process.exit(2);
}
const wasi = new WASI({
  version: "preview1",
  args: [path, ...args],
  env: {},
  preopens: { ".": dir },
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(path));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
