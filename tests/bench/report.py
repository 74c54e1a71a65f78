#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Medians and ratios from the guest's RESULT lines (see bench.sh)."""
import statistics
import sys
from collections import defaultdict

res = defaultdict(list)
mem = []
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == "RESULT" and len(f) == 5:
        res[(f[1], f[2])].append((float(f[3]), int(f[4])))
    elif f and f[0] == "MEM":
        mem.append(" ".join(f[1:]))

names = {"/dev/mapper/floor": "floor (dm-linear, raw)"}
fmts = ["disk-vmdk", "disk-qcow2", "disk-vhdx", "stream-vmdk", "comp-qcow2"]
for i, fmt in enumerate(fmts):
    names[f"/dev/mapper/v-{fmt}"] = f"vdisk {fmt}"
    names[f"/dev/nbd{i}"] = f"qemu-nbd {fmt}"
loads = ["seq-1M-qd8", "rand-4k-qd32", "rand-4k-qd1", "cold-rand-4k-qd32"]


def med(dev, load):
    v = res.get((dev, load))
    if not v:
        return None
    # sequential: MB/s; random: IOPS
    return statistics.median(x[0] if load.startswith("seq") else x[1] for x in v)


print("\n%-26s" % "device" + "".join("%20s" % l for l in loads))
for dev, name in names.items():
    print("%-26s" % name + "".join(
        "%20s" % ("-" if med(dev, l) is None else "%.1f" % med(dev, l)) for l in loads))
print("(seq: MB/s; rand: IOPS; medians of the rounds)\n")
print("%-26s" % "ratio" + "".join("%20s" % l for l in loads))
for i, fmt in enumerate(fmts):
    v = f"/dev/mapper/v-{fmt}"
    for base, label in (("/dev/mapper/floor", "floor"), (f"/dev/nbd{i}", "qemu-nbd")):
        cells = []
        for l in loads:
            a, b = med(v, l), med(base, l)
            cells.append("-" if not a or not b else "%.2f" % (a / b))
        print("%-26s" % f"{fmt}/{label}" + "".join("%20s" % c for c in cells))
for m in mem:
    print("memory:", m)
