"""Peer driver for the BareFlow benchmark: runs one export of a wasm module in wasmtime
(the `wasmtime` PyPI package: Cranelift, the same engine as the wasmtime CLI) or wasm3
(`pywasm3`), instantiating once and timing each call in-process, so interpreter start-up
and module compilation are not measured.

usage: python3 driver.py <wasmtime|wasm3> <module.wasm> <export> <i32|i64> <reps> <arg>...
output (the format of bench/native/driver.c): "checksum <signed decimal>" then "ns t1 t2 ...".
Every call must return the same checksum (exit status 1 otherwise).
"""
import sys
import time


def signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def main():
    if len(sys.argv) < 6:
        sys.stderr.write(__doc__)
        return 2
    engine, path, export, rtype, reps = sys.argv[1:6]
    args = [int(a) for a in sys.argv[6:]]
    reps = int(reps)
    bits = 32 if rtype == "i32" else 64
    with open(path, "rb") as f:
        wasm = f.read()
    if engine == "wasmtime":
        import wasmtime

        store = wasmtime.Store()
        module = wasmtime.Module(store.engine, wasm)
        instance = wasmtime.Instance(store, module, [])
        func = instance.exports(store)[export]

        def call():
            return func(store, *args)

    elif engine == "wasm3":
        import wasm3

        env = wasm3.Environment()
        runtime = env.new_runtime(8 * 1024 * 1024)
        runtime.load(env.parse_module(wasm))
        func = runtime.find_function(export)

        def call():
            return func(*args)

    else:
        sys.stderr.write(f"unknown engine {engine}\n")
        return 2
    times = []
    first = None
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        got = call()
        times.append(time.perf_counter_ns() - t0)
        got = signed(int(got), bits)
        if first is None:
            first = got
        elif got != first:
            sys.stderr.write(f"{export}: checksum changed between calls\n")
            return 1
    print(f"checksum {first}")
    print("ns " + " ".join(str(t) for t in times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
