#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest selftests on a debug kernel: Debian's 6.1 source with KASAN,
# UBSAN, lockdep, DEBUG_ATOMIC_SLEEP, kmemleak, debug objects and fault
# injection (tests/lib/debug-kernel.sh builds it once, cached), the module
# built against that tree without a warning, then a guest subset (below;
# DEBUG_CASES=REGEX another one, DEBUG_CASES=all every case).  The guest
# fails on any checker's report (tests/selftests/run).  make check runs it
# last; a build of the kernel under way is waited for.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
OUT=$PWD/tests/out/debugkernel
echo "TAP version 13"
rm -rf "$OUT"
mkdir -p "$OUT"

t0=$(date +%s)
dir=$(tests/lib/debug-kernel.sh 2>"$OUT/kernel.log")
result $? "the debug kernel is built (or cached)"
if [ -z "$dir" ] || [ ! -f "$dir/done" ]; then
	sed 's/^/# /' "$OUT/kernel.log"
	tap_end
	exit
fi
krel=$(cat "$dir/kernel.release")
echo "# $krel in $dir (built in $(cat "$dir/build-seconds") s; this step $(($(date +%s) - t0)) s)"

src=$OUT/src
mkdir -p "$src"
git ls-files -z Kbuild Makefile dm-vdisk | xargs -0 -I{} cp --parents {} "$src/"
nice -n 19 make -C "$src" -j"$(nproc)" module KDIR="$dir/linux" >"$OUT/build.log" 2>&1
result $? "the module builds against $krel"
ko=$src/dm-vdisk/dm-vdisk.ko
if [ ! -f "$ko" ]; then
	tail -n 15 "$OUT/build.log" | sed 's/^/# /'
	tap_end
	exit
fi
grep -i 'warning:' "$OUT/build.log" | sed 's/^/# /'
result "$(grep -ci 'warning:' "$OUT/build.log")" "no compiler warnings for $krel"

[ -x tools/vdisk-static ] || make -s tools/vdisk-static >"$OUT/helper.log" 2>&1
# Smaller than tests/kernels.sh's, as the checkers slow the guest: each
# format once, chains, a damaged table (EIO) and faults under the image,
# the cache limit, table readahead, units inflated in part and read in
# batches (with faults under a stream VMDK), O_DIRECT readers across
# reloads, writes, module unload.
SUBSET="random-writes stream-qemu-random sesparse-chain vhdx-gen-diff-child
	qcow1-compressed qcow2-compressed-zstd qcow2-chain-3 qcow2-l2-past-end
	vhdx-faults stream-faults cache-limit cli_ahead cli_partial cli_batch
	vhd-gen-diff-w2ru
	vdi-differencing qcow2-over-qed parallels-ploop cli_concurrency
	cli_writes cli_misc"
case ${DEBUG_CASES:-} in
"") cases="^($(echo $SUBSET | tr ' ' '|'))\$" ;;
all) cases= ;;
*) cases=$DEBUG_CASES ;;
esac
t0=$(date +%s)
# Under TCG, with the host busy, the checkers make the guest's CPUs look
# stalled to RCU (a backtrace that is not a bug): the longest timeout.
OUT=$OUT/guest GUEST_APPEND="rcupdate.rcu_cpu_stall_timeout=300 ${GUEST_APPEND:-}" GUEST_KERNEL=$dir/vmlinuz GUEST_MODULES=$dir/lib/modules/$krel \
	VDISK_KO=$ko VDISK_CASES=$cases GUEST_TIMEOUT=${DEBUG_GUEST_TIMEOUT:-3000} \
	tests/selftests.sh >"$OUT/guest.log" 2>&1
st=$?
echo "# the guest (initramfs, images, boot, cases) took $(($(date +%s) - t0)) s"
tap_relay "$krel" "$OUT/guest.log"
result "$st" "$krel: the guest booted, ran the cases and passed (status $st)"

# The kernel fuzzer's regression corpus: every input of
# tests/fuzz/kernel-regress/ replayed, in a guest of its own.  DEBUG_FUZZ=1
# adds a short deterministic fuzz per format, the fail-nth table-load sweep
# and the fault-injected reads (about 9 minutes more).
t0=$(date +%s)
how=--regress
[ "${DEBUG_FUZZ:-0}" = 0 ] || how=--replay
OUT=$OUT/fuzz DEBUG_KERNEL_DIR=$dir VDISK_KO=$ko \
	tests/fuzz/kernel/run.sh $how >"$OUT/fuzz.log" 2>&1
st=$?
echo "# the kernel fuzzer's replay took $(($(date +%s) - t0)) s"
while IFS= read -r line; do
	if [[ $line =~ ^(not )?ok\ [0-9]+\ (.*)$ ]]; then
		result "$([ -z "${BASH_REMATCH[1]}" ]; echo $?)" "fuzz-kernel replay: ${BASH_REMATCH[2]}"
	elif [[ $line != "TAP version"* && ! $line =~ ^1\.\. ]]; then
		echo "# $line"
	fi
done <"$OUT/fuzz.log"
result "$st" "fuzz-kernel replay passed (status $st)"
tap_end
