#!/bin/sh
# Builds a wasm2c peer for the BareFlow benchmark: translates one module to C with wabt's
# wasm2c, compiles it with `clang -O2` (wasm2c's default guard-page memory checks) together
# with wabt's runtime and a tiny driver that instantiates once and times each call of the
# export in-process. Usage:
#   wasm2c.sh <module.wasm> <export> <nargs 1|2> <i32|i64> <output-binary>
# The binary takes `<reps> <arg>...` and prints the format of bench/native/driver.c.
# Needs wasm2c and wasm-rt-impl.c (Debian: `apt-get install wabt`) and clang.
set -eu
wasm=${1:?usage: wasm2c.sh <module.wasm> <export> <nargs> <i32|i64> <out>}
export_name=${2:?export}
nargs=${3:?nargs}
rtype=${4:?result type}
out=${5:?output}
CLANG=${CLANG:-clang}
command -v wasm2c >/dev/null 2>&1 || { echo "wasm2c not found (apt-get install wabt)" >&2; exit 1; }
command -v "$CLANG" >/dev/null 2>&1 || { echo "'$CLANG' not found" >&2; exit 1; }
rt=
for d in "${WASM2C_RT:-}" /usr/share/wabt/wasm2c /usr/src/wasm2c /usr/local/share/wabt/wasm2c; do
    if [ -n "$d" ] && [ -f "$d/wasm-rt-impl.c" ]; then rt=$d; break; fi
done
[ -n "$rt" ] || { echo "wasm-rt-impl.c not found (set WASM2C_RT)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm2c "$wasm" -n m -o "$tmp/m.c"
# wabt 1.0.32 names exports Z_<module>Z_<name>; newer releases changed the scheme.
fn="Z_mZ_$export_name"
grep -q "$fn(" "$tmp/m.h" || {
    echo "wasm2c $(wasm2c --version): export $export_name not found as $fn (unsupported wabt naming)" >&2
    exit 1
}
if [ "$nargs" = 2 ]; then call="$fn(&inst, (u32)a[0], (u32)a[1])"; else call="$fn(&inst, (u32)a[0])"; fi
if [ "$rtype" = i32 ]; then conv="(int64_t)(int32_t)"; else conv="(int64_t)"; fi
cat > "$tmp/driver.c" <<C
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "m.h"
static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
int main(int argc, char **argv) {
    if (argc != 2 + $nargs) { fprintf(stderr, "usage: %s <reps> <arg>...\n", argv[0]); return 2; }
    int reps = atoi(argv[1]);
    int32_t a[2] = {0, 0};
    for (int i = 0; i < $nargs; i++) a[i] = (int32_t)strtol(argv[2 + i], NULL, 10);
    wasm_rt_init();
    Z_m_init_module();
    Z_m_instance_t inst;
    Z_m_instantiate(&inst);
    int64_t *t = malloc(sizeof(int64_t) * (size_t)(reps > 0 ? reps : 1));
    int64_t first = 0;
    for (int r = 0; r < reps; r++) {
        int64_t t0 = now_ns();
        int64_t v = $conv $call;
        t[r] = now_ns() - t0;
        if (r == 0) first = v;
        else if (v != first) { fprintf(stderr, "checksum changed between calls\n"); return 1; }
    }
    printf("checksum %lld\nns", (long long)first);
    for (int r = 0; r < reps; r++) printf(" %lld", (long long)t[r]);
    printf("\n");
    Z_m_free(&inst);
    wasm_rt_free();
    return 0;
}
C
CFLAGS="-O2 -ffp-contract=off -fno-math-errno -w"
"$CLANG" $CFLAGS -I"$tmp" -I"$rt" -c "$tmp/m.c" -o "$tmp/m.o"
"$CLANG" $CFLAGS -I"$tmp" -I"$rt" -c "$rt/wasm-rt-impl.c" -o "$tmp/rt.o"
"$CLANG" $CFLAGS -I"$tmp" -I"$rt" -c "$tmp/driver.c" -o "$tmp/driver.o"
mkdir -p "$(dirname "$out")"
"$CLANG" "$tmp"/*.o -lm -o "$out.tmp"
mv "$out.tmp" "$out"
