// Peer driver for the BareFlow benchmark: runs one export of a wasm module in node's V8
// (Liftoff first, then TurboFan tier-up), instantiating once and timing each call
// in-process with process.hrtime, so node start-up and compilation are not measured.
//
// usage: node driver.mjs <module.wasm> <export> <i32|i64> <reps> <arg>...
// output (the format of bench/native/driver.c): "checksum <signed decimal>" then "ns t1 ...".
import { readFileSync } from "node:fs";

const [path, exportName, rtype, repsText, ...rest] = process.argv.slice(2);
if (!path || !exportName || !rtype || !repsText) {
  process.stderr.write("usage: node driver.mjs <module.wasm> <export> <i32|i64> <reps> <arg>...\n");
  process.exit(2);
}
const reps = Number.parseInt(repsText, 10);
const args = rest.map((a) => Number.parseInt(a, 10));
const { instance } = await WebAssembly.instantiate(readFileSync(path), {});
const f = instance.exports[exportName];
if (typeof f !== "function") {
  process.stderr.write(`no exported function ${exportName}\n`);
  process.exit(1);
}
const times = [];
let first = null;
for (let r = 0; r < reps; r++) {
  const t0 = process.hrtime.bigint();
  const got = f(...args);
  times.push(process.hrtime.bigint() - t0);
  const v = rtype === "i64" ? BigInt.asIntN(64, BigInt(got)) : BigInt(got | 0);
  if (first === null) first = v;
  else if (v !== first) {
    process.stderr.write(`${exportName}: checksum changed between calls\n`);
    process.exit(1);
  }
}
process.stdout.write(`checksum ${first}\nns ${times.join(" ")}\n`);
