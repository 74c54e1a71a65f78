#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz the kernel path in the debug guest (make fuzz-kernel), or replay the
# regression corpus (--replay, what tests/debugkernel.sh runs).  TAP.
#
#   fuzz:    FUZZ_KERNEL_SECONDS per format (default 1200),
#            FUZZ_KERNEL_FORMATS (default: all of tests/lib/fuzzseeds.py's),
#            FUZZ_KERNEL_SEED (default: the time), FUZZ_KERNEL_MAX_FINDINGS;
#            then the fail-nth table-load sweep of every seed
#            (FUZZ_KERNEL_FAILNTH: these seeds, FUZZ_KERNEL_STRIDE: every
#            Nth allocation past the 32nd) and reads under fail_make_request
#            and dm-flakey (FUZZ_KERNEL_FAILIO: these seeds).  Findings are copied to
#            tests/fuzz/kernel-regress/FMT/CASE/ for a human to commit.
#   replay:  every case of tests/fuzz/kernel-regress/ once, a short fuzz
#            (FUZZ_KERNEL_REPLAY_ITERS per format, seed 1), the fail-nth
#            sweep of one seed per format and one fail_make_request/flakey
#            run.
#   regress: (--regress) the cases of tests/fuzz/kernel-regress/ alone,
#            what make check runs.
#
# env: DEBUG_KERNEL_DIR (default: tests/lib/debug-kernel.sh's), VDISK_KO
# (built against it; default: built here), OUT.
set -u
cd "$(dirname "$0")/../../.."
. tests/lib/tap.sh
mode=fuzz
case ${1:-} in
--replay) mode=replay ;;
--regress) mode=regress ;;
esac
OUT=${OUT:-$PWD/tests/out/fuzz-kernel-$mode}
REGRESS=tests/fuzz/kernel-regress
rm -rf "$OUT"
mkdir -p "$OUT/data"
echo "TAP version 13"

dir=${DEBUG_KERNEL_DIR:-}
if [ -z "$dir" ]; then
	dir=$(tests/lib/debug-kernel.sh 2>"$OUT/kernel.log")
	result $? "the debug kernel is built (or cached)"
fi
if [ -z "$dir" ] || [ ! -f "$dir/done" ]; then
	sed 's/^/# /' "$OUT/kernel.log" 2>/dev/null
	tap_end
	exit
fi
krel=$(cat "$dir/kernel.release")
ko=${VDISK_KO:-}
if [ -z "$ko" ]; then
	src=$OUT/src
	mkdir -p "$src"
	git ls-files -z Kbuild Makefile dm-vdisk | xargs -0 -I{} cp --parents {} "$src/"
	nice -n 10 make -C "$src" -j2 module KDIR="$dir/linux" >"$OUT/build.log" 2>&1
	result $? "the module builds against $krel"
	ko=$src/dm-vdisk/dm-vdisk.ko
	[ -f "$ko" ] || { tail -n 15 "$OUT/build.log" | sed 's/^/# /'; tap_end; exit; }
fi

nice -n 10 gcc -static -O2 -Wall -Wextra -Wno-unused-parameter \
	-Wno-format-truncation -o "$OUT/data/fuzzk" tests/fuzz/kernel/fuzzk.c \
	>"$OUT/fuzzk.log" 2>&1
result $? "fuzzk builds (gcc -static)"
[ -s "$OUT/fuzzk.log" ] && sed 's/^/# /' "$OUT/fuzzk.log"
if [ "$mode" = regress ]; then
	# No seeds: each case carries its image and table.
	mkdir -p "$OUT/data/seeds"
	: >"$OUT/data/seeds/seeds.txt"
else
	nice -n 10 python3 tests/lib/fuzzseeds.py "$OUT/data/seeds" >"$OUT/seeds.log" 2>&1
	result $? "the seed images are made (tests/lib/fuzzseeds.py)"
fi
[ -x "$OUT/data/fuzzk" ] && [ -f "$OUT/data/seeds/seeds.txt" ] || { tap_end; exit; }

# The formats, and each one's first seed (for the fault-injection runs).
fmts=$(awk '$1 == "fmt" && !s[$2]++ { print $2 }' "$OUT/data/seeds/seeds.txt")
if [ -n "${FUZZ_KERNEL_FORMATS:-}" ]; then
	fmts=$(for f in $fmts; do
		case ",$FUZZ_KERNEL_FORMATS," in *",$f,"*) echo "$f" ;; esac
	done)
fi
fmts=$(echo $fmts)
seeds_of()
{
	awk -v f="$1" '$1 == "seed" { n = $2 } $1 == "fmt" && $2 == f { print n }' \
		"$OUT/data/seeds/seeds.txt"
}
first=$(for f in $fmts; do seeds_of "$f" | head -n 1; done)
all=$(for f in $fmts; do seeds_of "$f"; done)
nf=$(echo $fmts | wc -w)
if [ "$mode" = regress ]; then
	cat >"$OUT/data/fuzzk.conf" <<-EOF
	MODE=replay
	FORMATS=
	FAILNTH=
	FAILIO=
	EOF
	timeout=900
elif [ "$mode" = replay ]; then
	secs=${FUZZ_KERNEL_REPLAY_SECONDS:-20}
	cat >"$OUT/data/fuzzk.conf" <<-EOF
	MODE=replay
	FORMATS="${fmts// /,}"
	SECONDS=$secs
	ITERS=${FUZZ_KERNEL_REPLAY_ITERS:-12}
	SEED=1
	MAX_FINDINGS=5
	FAILNTH="$(echo $first)"
	FAILNTH_STRIDE=${FUZZ_KERNEL_REPLAY_STRIDE:-32}
	FAILIO="${FUZZ_KERNEL_REPLAY_FAILIO-qcow2-zlib}"
	EOF
	timeout=$((nf * secs + 900))
else
	secs=${FUZZ_KERNEL_SECONDS:-1200}
	cat >"$OUT/data/fuzzk.conf" <<-EOF
	MODE=fuzz
	FORMATS="${fmts// /,}"
	SECONDS=$secs
	ITERS=${FUZZ_KERNEL_ITERS:-1000000000}
	SEED=${FUZZ_KERNEL_SEED:-$(($(date +%s) % 100000))}
	MAX_FINDINGS=${FUZZ_KERNEL_MAX_FINDINGS:-20}
	FAILNTH="${FUZZ_KERNEL_FAILNTH-$(echo $all)}"
	FAILNTH_STRIDE=${FUZZ_KERNEL_STRIDE:-1}
	FAILIO="${FUZZ_KERNEL_FAILIO-$(echo $first)}"
	EOF
	timeout=$((nf * secs + 600 + $(echo $all | wc -w) * 120))
fi
# The regression corpus, which both replays go through first.
[ "$mode" = fuzz ] ||
	cp -r "$REGRESS" "$OUT/data/regress" 2>/dev/null || mkdir -p "$OUT/data/regress"
# A message that counts as a finding too (to try the findings' path).
[ -z "${FUZZ_KERNEL_PATTERN:-}" ] ||
	echo "export FUZZK_PATTERN='$FUZZ_KERNEL_PATTERN'" >>"$OUT/data/fuzzk.conf"
sed 's/^/# /' "$OUT/data/fuzzk.conf"
cp tests/fuzz/kernel/run-guest "$OUT/data/run"

GUEST_MODULES=$dir/lib/modules/$krel VDISK_KO=$ko \
	tests/vm/build-initramfs.sh "$OUT/initramfs.cpio.gz" >"$OUT/initramfs.log" 2>&1
result $? "the guest's initramfs is built"
truncate -s 0 "$OUT/out.img"
truncate -s 512M "$OUT/out.img"
t0=$(date +%s)
GUEST_KERNEL=$dir/vmlinuz GUEST_MODULES=$dir/lib/modules/$krel \
	GUEST_APPEND="rcupdate.rcu_cpu_stall_timeout=300 ${GUEST_APPEND:-}" \
	tests/vm/run-guest.sh --timeout "$timeout" --mem 2048 --disk "$OUT/out.img" \
	"$OUT/initramfs.cpio.gz" "$OUT/data" "$OUT/run" >"$OUT/guest.log" 2>&1
st=$?
echo "# the guest took $(($(date +%s) - t0)) s (status $st)"
tap_relay "$krel" "$OUT/guest.log"
result "$st" "$krel: the guest booted, ran and passed (status $st)"

# Findings: into the source tree, compressed, for a human to commit.
mkdir -p "$OUT/found"
tar -xf "$OUT/out.img" -C "$OUT/found" 2>/dev/null
nfound=0
for c in "$OUT"/found/out/*/*/; do
	[ -f "$c/table" ] || continue
	fmt=$(basename "$(dirname "$c")")
	name=$(basename "$c")
	nfound=$((nfound + 1))
	[ "$mode" = fuzz ] || continue
	d=$REGRESS/$fmt/$name
	mkdir -p "$d"
	cp "$c"/*table "$c/report" "$d/"
	for f in image parent.image; do
		[ -f "$c/$f" ] && gzip -9 -c "$c/$f" >"$d/$f.gz"
	done
	echo "# finding: $d: $(head -n 1 "$c/report")"
done
echo "# $nfound findings saved$([ "$mode" = fuzz ] && echo " in $REGRESS/")"
grep -h 'fuzzk: format' "$OUT/guest.log" | sed 's/^# *//; s/^/# /'
tap_end
