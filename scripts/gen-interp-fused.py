#!/usr/bin/env python3
"""Generates the interpreter's specialized fused ops (one op per operator and operand form).

The lowering's peephole builds generic fused ops that carry their operator as a field
(`Op::I32BinLC { k: Bin, a, c }`, `Op::F64BinSM { k: FBin, .. }`); `lower::specialize`
then maps each one to a variant for that operator alone (`Op::I32AddLC { a, c }`,
`Op::F64MulSM { .. }`), so the dispatch loop runs one indirect jump per op and no second
`match` on the operator.

Loads and stores keep their kind as a field: specializing them too (48 more handlers)
made LLVM's register allocator keep `ip`/`fp` in stack slots across the whole dispatch
loop (sum_to_n: 225M -> 375M instructions per call). Check the instruction counts
(cachegrind, bench/examples/interp_vs_wasmi.rs --once) after adding handlers.

This script writes the variants (ops.rs), the mapping (lower.rs) and the handlers
(exec.rs) between `BEGIN GENERATED`/`END GENERATED` markers.

Run from the repository root: python3 scripts/gen-interp-fused.py && rustfmt --edition 2024 compiler/src/interp/*.rs
"""
import re
from pathlib import Path

ARITH = ["Add", "Sub", "Mul", "And", "Or", "Xor", "Shl", "ShrS", "ShrU", "Rotl", "Rotr"]
CMP = ["Eq", "Ne", "LtS", "LtU", "GtS", "GtU", "LeS", "LeU", "GeS", "GeU"]

# (generic variant, fields without k, handler template with K for the operator)
BIN32 = {
    "LL": (["a: u32", "b: u32"], "push!(u64::from(K.eval32(loc!(a) as u32, loc!(b) as u32)))"),
    "LC": (["a: u32", "c: u32"], "push!(u64::from(K.eval32(loc!(a) as u32, c)))"),
    "SL": (["b: u32"], "set_top!(1, u64::from(K.eval32(top!(1) as u32, loc!(b) as u32)))"),
    "SC": (["c: u32"], "set_top!(1, u64::from(K.eval32(top!(1) as u32, c)))"),
    "LLD": (["a: u32", "b: u32", "d: u32"],
            "set_loc!(d, u64::from(K.eval32(loc!(a) as u32, loc!(b) as u32)))"),
    "LCD": (["a: u32", "c: u32", "d: u32"], "set_loc!(d, u64::from(K.eval32(loc!(a) as u32, c)))"),
    "SLD": (["b: u32", "d: u32"],
            "{ let x = pop!() as u32; set_loc!(d, u64::from(K.eval32(x, loc!(b) as u32))) }"),
    "SCD": (["c: u32", "d: u32"], "{ let x = pop!() as u32; set_loc!(d, u64::from(K.eval32(x, c))) }"),
    "SSD": (["d: u32"],
            "{ let y = pop!() as u32; let x = pop!() as u32; set_loc!(d, u64::from(K.eval32(x, y))) }"),
}
BIN64 = {
    "LL": (["a: u32", "b: u32"], "push!(K.eval64(loc!(a), loc!(b)))"),
    "LC": (["a: u32", "c: i32"], "push!(K.eval64(loc!(a), c as i64 as u64))"),
    "SL": (["b: u32"], "set_top!(1, K.eval64(top!(1), loc!(b)))"),
    "SC": (["c: i32"], "set_top!(1, K.eval64(top!(1), c as i64 as u64))"),
    "LLD": (["a: u32", "b: u32", "d: u32"], "set_loc!(d, K.eval64(loc!(a), loc!(b)))"),
    "LCD": (["a: u32", "c: i32", "d: u32"], "set_loc!(d, K.eval64(loc!(a), c as i64 as u64))"),
    "SLD": (["b: u32", "d: u32"], "{ let x = pop!(); set_loc!(d, K.eval64(x, loc!(b))) }"),
    "SCD": (["c: i32", "d: u32"], "{ let x = pop!(); set_loc!(d, K.eval64(x, c as i64 as u64)) }"),
    "SSD": (["d: u32"], "{ let y = pop!(); let x = pop!(); set_loc!(d, K.eval64(x, y)) }"),
}
J = "{ cond_jump!(lp, t); }"
JUMP32 = {
    "LL": (["lp: bool", "a: u32", "b: u32", "t: u32"], "if K.test32(loc!(a) as u32, loc!(b) as u32) " + J),
    "LC": (["lp: bool", "a: u32", "c: u32", "t: u32"], "if K.test32(loc!(a) as u32, c) " + J),
    "SS": (["lp: bool", "t: u32"],
           "{ let b = pop!() as u32; let a = pop!() as u32; if K.test32(a, b) " + J + " }"),
    "SC": (["lp: bool", "c: u32", "t: u32"], "if K.test32(pop!() as u32, c) " + J),
    "SL": (["lp: bool", "b: u32", "t: u32"],
           "{ let a = pop!() as u32; if K.test32(a, loc!(b) as u32) " + J + " }"),
}
JUMP64 = {
    "LL": (["lp: bool", "a: u32", "b: u32", "t: u32"], "if K.test64(loc!(a), loc!(b)) " + J),
    "LC": (["lp: bool", "a: u32", "c: i32", "t: u32"], "if K.test64(loc!(a), c as i64 as u64) " + J),
    "SS": (["lp: bool", "t: u32"], "{ let b = pop!(); let a = pop!(); if K.test64(a, b) " + J + " }"),
    "SC": (["lp: bool", "c: i32", "t: u32"], "if K.test64(pop!(), c as i64 as u64) " + J),
    "SL": (["lp: bool", "b: u32", "t: u32"], "{ let a = pop!(); if K.test64(a, loc!(b)) " + J + " }"),
}

F64_KINDS = ["Add", "Sub", "Mul", "Div"]

# (generic variant, fields without k, handler template with KIND for the kind)
F64 = {
    "LL": (["a: u32", "b: u32"], "push!(KIND.eval(loc!(a), loc!(b)))"),
    "SL": (["b: u32"], "set_top!(1, KIND.eval(top!(1), loc!(b)))"),
    "SC": (["c: u64"], "set_top!(1, KIND.eval(top!(1), c))"),
    "SM": (["a: u32", "c: u32", "off: u32"],
           "{ let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c)) "
           "+ u64::from(off)); set_top!(1, KIND.eval(top!(1), y)) }"),
    "LM": (["b: u32", "a: u32", "c: u32"],
           "{ let y = load_val!(Load::I64, u64::from((loc!(a) as u32).wrapping_add(c))); "
           "push!(KIND.eval(loc!(b), y)) }"),
    "Store": (["off: u32"],
              "{ let y = pop!(); let x = pop!(); "
              "let addr = (pop!() as u32 as u64) + u64::from(off); "
              "store_w!(Store::S64, addr, KIND.eval(x, y)) }"),
}

# (generic name, specialized name, fields, handler, kind expression)
items = []
for ty, table, kinds, jump in [("I32", BIN32, ARITH, False), ("I64", BIN64, ARITH, False),
                               ("I32", JUMP32, CMP, True), ("I64", JUMP64, CMP, True)]:
    for form, (fields, tmpl) in table.items():
        generic = f"{ty}{'Jump' if jump else 'Bin'}{form}"
        for k in kinds:
            name = f"{ty}{k}{'Jump' if jump else ''}{form}"
            items.append((generic, name, fields, tmpl.replace("K.", f"Bin::{k}."), f"Bin::{k}"))
for form, (fields, tmpl) in F64.items():
    for k in F64_KINDS:
        items.append((f"F64Bin{form}", f"F64{k}{form}", fields,
                      tmpl.replace("KIND", f"FBin::{k}"), f"FBin::{k}"))


def names(fields):
    return ", ".join(f.split(":")[0] for f in fields)


ops_txt = "".join(
    f"    {name} {{ {', '.join(fields)} }},\n" for (_, name, fields, _, _) in items)
lower_txt = "".join(
    f"        Op::{g} {{ k: {k}, {names(f)} }} => Op::{n} {{ {names(f)} }},\n"
    for (g, n, f, _, k) in items)
exec_txt = "".join(
    f"                Op::{n} {{ {names(f)} }} => {h},\n" for (_, n, f, h, _) in items)


def splice(path, text):
    p = Path(path)
    s = p.read_text()
    pat = re.compile(r"(// BEGIN GENERATED[^\n]*\n)(.*?)(\s*// END GENERATED)", re.S)
    if not pat.search(s):
        raise SystemExit(f"{path}: no BEGIN/END GENERATED markers")
    s = pat.sub(lambda m: m.group(1) + text.rstrip("\n") + m.group(3), s, count=1)
    p.write_text(s)


splice("compiler/src/interp/ops.rs", ops_txt)
splice("compiler/src/interp/exec.rs", exec_txt)
splice("compiler/src/interp/lower.rs", lower_txt)
print(f"{len(items)} specialized ops")
