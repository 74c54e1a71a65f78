#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run every test suite, print each one's TAP, then "N passed, M failed".
# A suite that dies or whose plan does not match its results counts as one
# more failure, so a crash can never look like a pass.
set -u
cd "$(dirname "$0")/.."
OUT=tests/out
mkdir -p "$OUT"
pass=0
fail=0

suite()
{
	local name=$1 log=$OUT/$1.tap status p f plan t0=$SECONDS
	shift
	echo "# suite: $name"
	"$@" >"$log" 2>&1
	status=$?
	cat "$log"
	# The suites share the disk (the boot suite's images take gigabytes).
	echo "# $name took $((SECONDS - t0)) s; free after it:$(df -h --output=avail . | tail -n 1)"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	plan=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited with status $status"
		f=$((f + 1))
	elif [ "${plan:-x}" != $((p + f)) ]; then
		echo "not ok - $name: planned ${plan:-nothing}, ran $((p + f))"
		f=$((f + 1))
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

# The debug kernel (tests/debugkernel.sh, last) takes half an hour to build
# the first time: start it now, under nice, beside the suites that do not
# need it.  It is cached after; debugkernel.sh waits for this build.
tests/lib/debug-kernel.sh >"$OUT/debug-kernel.log" 2>&1 &

# The images of the host and guest suites, made by qemu-img and our
# generators (cached outside the clone, keyed by what makes them).
export IMAGES=$OUT/images
suite images tests/lib/images.sh "$IMAGES"

for t in tests/unit/test_*; do
	case $t in *.c|*.h) continue ;; esac
	[ -x "$t" ] && suite "unit-$(basename "$t")" "$t"
done
suite host-read tests/host-read.sh
suite completion tests/completion.sh
suite vdisktab tests/vdisktab.sh
FUZZ_SECONDS=${FUZZ_SECONDS:-15} suite fuzz tests/fuzz/run.sh
suite package tests/package.sh
suite kernels tests/kernels.sh
suite guest tests/selftests.sh
suite boot tests/boot.sh
suite debugkernel tests/debugkernel.sh

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
