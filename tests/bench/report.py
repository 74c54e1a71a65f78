#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Medians and ratios from the guest's RESULT lines (see bench.sh)."""
import statistics
import sys
from collections import defaultdict

res = defaultdict(list)
order = defaultdict(list)  # load -> [(device, value)] in the order run
cpu = defaultdict(list)  # (device, load) -> [CPU seconds per GiB]
cpuorder = defaultdict(list)  # load -> [(device, CPU s/GiB)] in the order run
mem = {}  # name -> {key: value}
inflate = defaultdict(list)  # kind -> [(unit bytes, MiB/s)]: the guest's own rate
nbd = {}  # /dev/nbdN -> the image it serves, as guest.sh says
fuse = {}  # /dev/loopN -> (the image its FUSE file shows, tool, direct I/O)
for line in open(sys.argv[1]):
    f = line.split()
    if f and f[0] == "RESULT" and len(f) == 5:
        res[(f[1], f[2])].append((float(f[3]), int(f[4])))
        order[f[2]].append((f[1], float(f[3]) if "seq" in f[2] else int(f[4])))
    elif f and f[0] == "CPU" and len(f) == 5 and int(f[4]):
        # busy ticks of USER_HZ (100 on x86) over KiB read
        v = int(f[3]) / 100 / (int(f[4]) / 2**20)
        cpu[(f[1], f[2])].append(v)
        cpuorder[f[2]].append((f[1], v))
    elif f and f[0] == "NBD" and len(f) == 3:
        nbd[f[1]] = f[2][2:]
    elif f and f[0] == "FUSE" and len(f) == 5:
        fuse[f[1]] = (f[2][2:], f[3], f[4] == "1")
    elif f and f[0] == "INFLATE" and len(f) == 5:
        inflate[f[1]].append((int(f[2]), float(f[3])))
    elif f and f[0] == "MEM" and len(f) % 2 == 0:
        mem.setdefault(f[1], {}).update(zip(f[2::2], f[3::2]))

names = {"/dev/mapper/floor": "floor (dm-linear, raw)"}
fmts = ["ctl-raw", "disk-vmdk", "disk-qcow2", "disk-vhdx", "disk-vhd", "disk-vdi", "disk-qed",
        "disk-hdd", "stream-vmdk", "comp-qcow2", "big-qcow2", "gen-clean-vhdx",
        "gen-log-vhdx"]
for fmt in fmts:
    names[f"/dev/mapper/v-{fmt}"] = f"vdisk {fmt}"
    # qemu does not open a dirty VHDX read-only: gen-log-vhdx has none
    for dev in (d for d, f in nbd.items() if f == fmt):
        names[dev] = f"qemu-nbd {fmt}"
    for dev in (d for d, f in fuse.items() if f[0] == fmt):
        names[dev] = f"{fuse[dev][1]} {fmt}"
# The control (guest.sh): dm-linear over the raw disk again, measured in a
# dm-vdisk device's place, and qemu-nbd serving that raw file.
CONTROL = "/dev/mapper/v-ctl-raw"
names[CONTROL] = "control (dm-linear, raw)"
for dev in (d for d, f in nbd.items() if f == "ctl-raw"):
    names[dev] = "qemu-nbd raw"
loads = ["seq-1M-qd8", "rand-4k-qd32", "rand-4k-qd1", "cold-rand-4k-qd32",
         "cold-seq-1M-qd8"]


def med(dev, load):
    v = res.get((dev, load))
    if not v:
        return None
    # sequential: MB/s; random: IOPS
    return statistics.median(x[0] if "seq" in load else x[1] for x in v)


print("\n%-26s" % "device" + "".join("%20s" % l for l in loads))
for dev, name in names.items():
    if not any(med(dev, l) is not None for l in loads):
        continue
    print("%-26s" % name + "".join(
        "%20s" % ("-" if med(dev, l) is None else "%.1f" % med(dev, l)) for l in loads))
print("(seq: MB/s; rand: IOPS; medians of the rounds)\n")
# Ratios of neighbouring runs (see guest.sh): a vdisk run against the mean
# of the floor runs either side of it, against the qemu-nbd run after it
# and against the best of the FUSE runs after that (best: max for rates,
# min for CPU cost).
FLOOR = "/dev/mapper/floor"


def neighbours(runs, best):
    """{(fmt, peer, load): [ratio]} from {load: [(device, value)]}."""
    ratios = defaultdict(list)
    for load, seq in runs.items():
        prev, pending, last, peers = None, [], None, []

        def close():
            if last and peers and best(peers):
                ratios[(last[0], "FUSE", load)].append(last[1] / best(peers))

        for dev, val in seq:
            if dev == FLOOR:
                for fmt, v in pending:
                    base = statistics.mean(x for x in (prev, val) if x)
                    if base:
                        ratios[(fmt, "floor", load)].append(v / base)
                close()
                prev, pending, last, peers = val, [], None, []
            elif dev.startswith("/dev/mapper/v-"):
                close()
                last, peers = (dev[len("/dev/mapper/v-"):], val), []
                pending.append(last)
            elif dev.startswith("/dev/nbd") and last:
                if val:
                    ratios[(last[0], "qemu-nbd", load)].append(last[1] / val)
            elif dev in fuse and last:
                peers.append(val)
        close()
    return ratios


ratios = neighbours(order, max)


def num(x):
    # three digits or so: qemu-nbd and FUSE ratios reach the hundreds (and
    # their inverse, in CPU cost), and a cell must fit its column
    if x < 0.1:
        return "%.3f" % x
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 100 else "%.0f" % x


def cell(r):
    if not r:
        return "-"
    return "%s (%s-%s)" % (num(statistics.median(r)), num(min(r)), num(max(r)))


def ratio_table(ratios):
    print("%-26s" % "ratio" + "".join("%20s" % l for l in loads))
    for fmt in fmts:
        for label in ("floor", "qemu-nbd", "FUSE"):
            if not any(ratios[(fmt, label, l)] for l in loads):
                continue  # not measured in this run (BENCH_IMAGES)
            print("%-26s" % f"{'control' if fmt == 'ctl-raw' else fmt}/{label}" +
                  "".join("%20s" % cell(ratios[(fmt, label, l)]) for l in loads))
    print("(medians of the rounds' ratios, with their range; FUSE: the best"
          " FUSE peer;\n control: dm-linear measured in a vdisk device's place, so"
          " control/floor is\n what this run reads for a device as fast as the"
          " floor, control/qemu-nbd the most\n a format can read over qemu-nbd)")


ratio_table(ratios)
if any(not d for _, _, d in fuse.values()):
    print("(no direct I/O on the loop over %s: caches dropped before each of"
          " its runs, but a run re-reads what it cached itself)" % ", ".join(
              names.get(dev, dev) for dev, f in fuse.items() if not f[2]))
# The dirty log's cost: each against the floor beside it, then one over the
# other (the same disk, the same writer, the same layout).
print("\n%-26s" % "VHDX log / clean" + "".join(
    "%20s" % ("-" if not (ratios[("gen-log-vhdx", "floor", l)] and
                          ratios[("gen-clean-vhdx", "floor", l)]) else "%.2f" % (
        statistics.median(ratios[("gen-log-vhdx", "floor", l)]) /
        statistics.median(ratios[("gen-clean-vhdx", "floor", l)]))) for l in loads))
print("(65000-descriptor dirty log over the clean image, both against the floor)")
# Compressed images against the rate the guest inflates their data at
# (inflate-rate.c): sequential MiB/s over it, random IOPS over the units it
# inflates per second (what a reader inflating a whole unit per read gets).
if inflate:
    print("\n%-26s" % "over the inflate rate" + "".join("%20s" % l for l in loads))
    for fmt, kind in (("stream-vmdk", "zlib"), ("comp-qcow2", "deflate")):
        if kind not in inflate:
            continue
        unit = inflate[kind][0][0]
        rate = statistics.mean(r for _, r in inflate[kind])
        print("%-26s" % f"{kind}: {rate:.0f} MiB/s" + "".join(
            "%20s" % "" for _ in loads))
        for dev, name in names.items():
            if not name.endswith(" " + fmt) or not any(med(dev, l) for l in loads):
                continue
            print("%-26s" % name + "".join(
                "%20s" % ("-" if not med(dev, l) else "%.2f" % (
                    med(dev, l) / rate if "seq" in l else
                    med(dev, l) / (rate * 2**20 / unit))) for l in loads))
    print("(seq: MiB/s over the rate; rand: IOPS over the units inflated per second)")
    if med(FLOOR, "rand-64k-qd32"):
        print("(the floor's random 64 KiB reads at depth 32: %.0f IOPS, the most a random"
              " reader\n of compressed units gets when it reads about a unit each time)"
              % med(FLOOR, "rand-64k-qd32"))
if cpu:
    print("\nCPU seconds per GiB read (whole guest: all CPUs' busy time, from the run's"
          " first read to half a second before its end)")
    print("%-26s" % "device" + "".join("%20s" % l for l in loads))
    for dev, name in names.items():
        if not any(cpu.get((dev, l)) for l in loads):
            continue
        print("%-26s" % name + "".join(
            "%20s" % ("%.2f" % statistics.median(cpu[(dev, l)])
                      if cpu.get((dev, l)) else "-") for l in loads))
    print("(medians of the rounds)\n")
    ratio_table(neighbours(cpuorder, min))
    print("(CPU per GiB: above 1, vdisk costs more)")
if mem:
    print("\nmemory (KiB; cache_mb %s)" % mem.pop("module", {}).get("cache_mb", "?"))
    print("%-26s%20s%20s" % ("device", "target holds", "dm-bufio holds"))
    for name, kv in mem.items():
        cells = ["-" if k not in kv else "%.0f" % (int(kv[k]) / 1024)
                 for k in ("target_bytes", "bufio_bytes")]
        print("%-26s%20s%20s" % (name, *cells))
