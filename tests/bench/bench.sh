#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make bench: read throughput of dm-vdisk against the floor (dm-linear over
# the raw copy of the same disk, on the same loop and file system stack),
# against qemu-nbd and against the libyal FUSE mounts (vmdkmount, vhdimount,
# qcowmount) for the formats they read, in one QEMU guest run, with the
# whole guest's CPU time per GiB read on each path; prints tables of medians
# and the ratios.  Under TCG absolute numbers say little; the ratios,
# measured side by side in the same run, are what count.
set -eu
cd "$(dirname "$0")/../.."
OUT=tests/out/bench
MB=${BENCH_MB:-256}
ROUNDS=${BENCH_ROUNDS:-3}
SECS=${BENCH_SECONDS:-3}
rm -rf "$OUT"
mkdir -p "$OUT/data"
D=$OUT/data

echo "# making a ${MB} MiB disk and its images"
python3 - "$D/disk.raw" "$MB" <<'PY'
import random, sys
rng = random.Random(6)
with open(sys.argv[1], "wb") as f:
    for i in range(int(sys.argv[2]) * 16):
        # half random, half text: compressed formats really compress
        f.write(rng.randbytes(32768) + (b"block %08d of text " % i * 2048)[:32768])
PY
qemu-img convert -f raw -O vmdk "$D/disk.raw" "$D/disk.vmdk"
qemu-img convert -f raw -O qcow2 "$D/disk.raw" "$D/disk.qcow2"
qemu-img convert -f raw -O vhdx "$D/disk.raw" "$D/disk.vhdx"
# The round-two formats, as qemu-img writes them by default (a dynamic VHD
# with 2 MiB blocks, a dynamic VDI with 1 MiB blocks).
qemu-img convert -f raw -O vpc "$D/disk.raw" "$D/disk.vhd"
qemu-img convert -f raw -O vdi "$D/disk.raw" "$D/disk.vdi"
qemu-img convert -f raw -O qed "$D/disk.raw" "$D/disk.qed"
qemu-img convert -f raw -O parallels "$D/disk.raw" "$D/disk.hdd"
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$D/disk.raw" "$D/stream.vmdk"
qemu-img convert -c -f raw -O qcow2 "$D/disk.raw" "$D/comp.qcow2"
# 2 MiB clusters: the memory a plain QCOW2 device holds however large they are.
qemu-img convert -f raw -O qcow2 -o cluster_size=2M "$D/disk.raw" "$D/big.qcow2"
# The same disk as a VHDX our writer makes, clean and with a dirty log of
# 65000 descriptors (near the cap of 65536) that change nothing: reads must not pay for
# the log (qemu does not open a dirty image read-only: no qemu-nbd run).
python3 - "$D" <<'PY'
import sys
sys.path.insert(0, "tests/lib")
import vhdxgen
d = sys.argv[1]
with open(d + "/disk.raw", "rb") as f:
    data = f.read()
v = vhdxgen.Vhdx(len(data), block_size=1 << 20, seed=7)
v.write(0, data)
v.save(d + "/gen-clean.vhdx")
v.save(d + "/gen-log.vhdx", log=True, many=65000)
PY
# Memory against image size: 1 GiB and 64 GiB sparse images, data spread out.
for g in 1 64; do
	qemu-img create -q -f qcow2 "$D/sparse$g.qcow2" "${g}G"
	cmds=()
	for i in $(seq 0 63); do cmds+=(-c "write -q -P 7 $((i * g * 16))M 64k"); done
	qemu-io "${cmds[@]}" "$D/sparse$g.qcow2" >/dev/null
done
# The control: the raw disk again, as a file of its own (see guest.sh).
cp "$D/disk.raw" "$D/ctl.raw"
cp tests/bench/guest.sh "$D/run"
cp tests/bench/inflate-rate "$D/"
printf 'ROUNDS=%s\nSECS=%s\n' "$ROUNDS" "$SECS" >"$D/params"
# BENCH_IMAGES="IMAGE:FORMAT ... [-- IMAGE:FORMAT ...]": only those (the
# ones after -- without qemu-nbd or FUSE peers), e.g. "gen-clean.vhdx:vhdx -- gen-log.vhdx:vhdx";
# "ctl.raw:raw" is the control.
[ -z "${BENCH_IMAGES:-}" ] || printf "IMAGES='%s'\n" "$BENCH_IMAGES" >>"$D/params"
# BENCH_PERF=1: a perf profile of each device's cold runs after the rounds.
perf=
if [ -n "${BENCH_PERF:-}" ]; then
	echo "PERF=1" >>"$D/params"
	perf=perf
fi

# The FUSE peers run in the guest: their tools, and the fuse module.
export VDISK_KO=dm-vdisk/dm-vdisk.ko VDISK_BIN=tools/vdisk-static \
	EXTRA_BINS="fio qemu-nbd /usr/sbin/losetup vmdkmount vhdimount qcowmount $perf" EXTRA_MODS=fuse
tests/vm/build-initramfs.sh "$OUT/initramfs.cpio.gz"
echo "# running the guest ($ROUNDS rounds, ${SECS}s per measurement; about 40 minutes under TCG)"
# The guest keeps time by the TSC, as real machines do.  Linux does not
# trust it under TCG (no constant_tsc) and falls back to the HPET, whose
# every read is an emulated device access: that was up to half of the
# floor's busy time (fio's clock reads, and blk-mq's), so every ratio
# measured the emulated clock as much as the reads.
# TCG's TSC is one counter for all CPUs: 0 warps in 6 million reads passed
# between the two CPUs of this guest.
GUEST_APPEND="clocksource=tsc tsc=reliable" \
	tests/vm/run-guest.sh --mem 2048 --timeout 5400 "$OUT/initramfs.cpio.gz" "$D" "$OUT/run" \
	>"$OUT/raw.txt"
grep -v '^RESULT\|^CPU\|^MEM\|^NBD\|^FUSE\|^INFLATE' "$OUT/raw.txt" || true
python3 tests/bench/report.py "$OUT/raw.txt"
