#!/usr/bin/env python3
"""Checks that the size and benchmark figures README.md and docs/FIRMWARE.md quote are the
measured ones, so they cannot drift apart:

* sizes: each table row listed below must contain the figures of docs/sizes.txt (written by
  `scripts/sizes.sh --write`), formatted 12,345;
* README prose: the current sizes and budgets its sentences quote (PROSE below), and sums
  written `a + b = c`;
* benchmarks: every cell of the README's headline table must equal the same workload's and
  column's cell in bench/RESULTS.md (written by `cargo bench -p bench`).

Usage: scripts/check-doc-figures.py [ROOT]   (exit 1 and one line per difference on a mismatch)
After `scripts/sizes.sh --write` or a benchmark run, fix the numbers this reports.
Figures no script produces (cachegrind percentages, historical sizes in docs/FIRMWARE.md's
size rounds) are not checked; the docs say where they come from.
"""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
problems = []

sizes = {}
for line in (root / "docs/sizes.txt").read_text().splitlines():
    if line.strip() and not line.startswith("#"):
        key, value = line.split()
        sizes[key] = int(value)

# (file, start of the table row, figures the row must contain)
ROWS = [
    ("README.md", "| loader core text, XIP-only build",
     ["loader-core-text-xip", "loader-core-rodata-xip"]),
    ("README.md", "| loader core text in the freestanding C program, default",
     ["loader-core-text-default", "loader-core-rodata-default"]),
    ("README.md", "| loader core text with `--features sign`",
     ["loader-core-text-sign-xip", "loader-core-text-sign-default"]),
    ("README.md", "| QEMU image", ["qemu-image"]),
    ("README.md", "| `bareflow-load` (no_std", ["bareflow-load"]),
    ("README.md", "| `bareflow-load` + WASI preview1", ["bareflow-load-wasi"]),
    ("docs/FIRMWARE.md", "| loader core (`libbareflow.a` code linked into the program",
     ["loader-core-text-default", "loader-core-rodata-default"]),
    ("docs/FIRMWARE.md", "| loader core, `--no-default-features`",
     ["loader-core-text-xip", "loader-core-rodata-xip"]),
    ("docs/FIRMWARE.md", "| the same with `--features sign`",
     ["loader-core-text-sign-xip", "loader-core-text-sign-default",
      "loader-core-rodata-sign-xip", "loader-core-rodata-sign-default"]),
    ("docs/FIRMWARE.md", "| arena used by sha256", ["arena-sha256-xip", "arena-sha256-default"]),
    ("docs/FIRMWARE.md", "| `bareflow-load` (no_std binary", ["bareflow-load", "bareflow-load-sign"]),
]


def numbers(text):
    return {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*\d|\d", text)}


for file, start, keys in ROWS:
    rows = [l for l in (root / file).read_text().splitlines() if l.startswith(start)]
    if len(rows) != 1:
        problems.append(f"{file}: expected one row starting `{start}`, found {len(rows)}")
        continue
    found = numbers(rows[0])
    for k in keys:
        if k not in sizes:
            problems.append(f"docs/sizes.txt has no `{k}`")
        elif sizes[k] not in found:
            problems.append(f"{file}: row `{start}` lacks {k} = {sizes[k]:,}")


# Sizes and budgets quoted in README.md's prose: (regex, keys). Each regex must match exactly
# once and its groups, in order, must equal the keys' values: a docs/sizes.txt key or
# `budget:NAME` from scripts/budgets.env. Sizes of other builds or of earlier rounds (the
# history in parentheses) are not listed.
budgets = {}
for m in re.finditer(r'\$\{(\w+):=(\d+)\}', (root / "scripts/budgets.env").read_text()):
    budgets[m.group(1)] = int(m.group(2))
N = r"(\d[\d,]*)"
PROSE = [
    (r"the `bareflow-load` binary is " + N + r" bytes \(goal 64 KB\)", ["bareflow-load"]),
    (r"size build with WASI preview1 \(no std, raw syscalls\) is " + N + " bytes",
     ["bareflow-load-wasi"]),
    (r"so its budget is " + N + r" \(`LOADER_CORE_BUDGET_DEFAULT`\)",
     ["budget:LOADER_CORE_BUDGET_DEFAULT"]),
    (N + r"\s+after the shrink steps of 2026-12-07, budget " + N,
     ["loader-core-text-xip", "budget:LOADER_CORE_BUDGET_XIP"]),
    (r"default library does not meet it today \(" + N + r", budget " + N + r"\)",
     ["loader-core-text-default", "budget:LOADER_CORE_BUDGET_DEFAULT"]),
    (r"the `bareflow-load` binary is " + N + r" bytes \(goal 64 KB\)", ["bareflow-load"]),
    (r"size build with WASI preview1 \(no std, raw syscalls\) is " + N + " bytes",
     ["bareflow-load-wasi"]),
    (r"both loader-core builds are above their 16 KB goal \(" + N + " default / " + N +
     " XIP-only", ["loader-core-text-default", "loader-core-text-xip"]),
    (r"`bareflow-load` \(" + N + r"\) is below the 56,504", ["bareflow-load"]),
    (r"with WASI \(`tiny-wasi`\) it is " + N + r" bytes, over the 64 KB goal of issue #21 \(budget\s+"
     + N + r"\)", ["bareflow-load-wasi", "budget:BAREFLOW_LOAD_WASI_BUDGET"]),
    (r"`tiny-wasi` \(min-size, " + N + " B;", ["bareflow-load-wasi"]),
]
readme_text = (root / "README.md").read_text()
for pattern, keys in PROSE:
    found = list(re.finditer(pattern, readme_text))
    if len(found) != 1:
        problems.append(f"README.md: expected one match of `{pattern}`, found {len(found)}")
        continue
    for k, g in zip(keys, found[0].groups()):
        want = budgets.get(k[7:]) if k.startswith("budget:") else sizes.get(k)
        if want is None:
            problems.append(f"no figure `{k}` in docs/sizes.txt or scripts/budgets.env")
        elif int(g.replace(",", "")) != want:
            problems.append(f"README.md: `{found[0].group(0)}` quotes {g}, {k} is {want:,}")
# Sums written out as `a + b = c` must add up.
for m in re.finditer(r"(\d[\d,]*) \+ (\d[\d,]*) = (\d[\d,]*)", readme_text):
    a, b, c = (int(x.replace(",", "")) for x in m.groups())
    if a + b != c:
        problems.append(f"README.md: `{m.group(0)}` does not add up ({a + b:,})")


def table(text, first_cell):
    """Rows of the markdown table whose header starts with `| first_cell |`."""
    lines = text.splitlines()
    for i, l in enumerate(lines):
        if l.startswith(f"| {first_cell} |"):
            header = [c.strip() for c in l.strip("|").split("|")]
            rows = []
            for r in lines[i + 2:]:
                if not r.startswith("|"):
                    break
                rows.append([c.strip() for c in r.strip("|").split("|")])
            return header, rows
    return None, []


readme = (root / "README.md").read_text()
results = (root / "bench/RESULTS.md").read_text()
rh, rrows = table(readme, "workload")
bh, brows = table(results, "workload")
if rh is None or bh is None:
    problems.append("benchmark headline table not found in README.md or bench/RESULTS.md")
else:
    by_name = {}
    for r in brows:
        if len(r) >= 2 and r[1]:
            by_name[f"{r[0]}({r[1]})"] = r
        by_name[r[0]] = r
    for r in rrows:
        name = r[0]
        # README writes 3e7 for 30000000 and names the geometric means differently.
        m = re.match(r"(\w+)\((.*)\)$", name)
        key = name
        if m:
            arg = m.group(2)
            if re.match(r"^\d+e\d+$", arg):
                arg = str(int(float(arg)))
            key = next((k for k in by_name if k.startswith(m.group(1) + "(") and
                        by_name[k][1].replace(" ", "").split(",")[-1] == arg), key)
        elif name.startswith("geometric mean, 10 workloads"):
            key = "geometric mean vs native, ten classic workloads"
        elif name.startswith("geometric mean, 7 C kernels"):
            key = "geometric mean vs native, seven C kernels"
        b = by_name.get(key)
        if b is None:
            problems.append(f"README.md benchmark row `{name}` has no row in bench/RESULTS.md")
            continue
        for col, cell in zip(rh[1:], r[1:]):
            if col not in bh:
                problems.append(f"README.md benchmark column `{col}` is not in bench/RESULTS.md")
                continue
            want = b[bh.index(col)]
            if cell != want:
                problems.append(f"README.md `{name}` / `{col}`: {cell}, bench/RESULTS.md: {want}")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"doc figures ok ({len(ROWS)} size rows, {len(PROSE)} README prose figures, "
      f"{len(rrows)} benchmark rows)")
