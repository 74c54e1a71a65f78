#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module builds, without a warning, against the kernels Debian users
# run: every kernel with headers on this machine (Debian 12's 6.1), built
# with the host's gcc, and Debian 13's kernel and the newest one in
# trixie-backports, built with their own gcc in a Debian 13 chroot that
# tests/lib/trixie-chroot.sh keeps in /var/cache/dm-vdisk.  Kbuild's
# feature checks (not version numbers) must cover the API differences.
# Each of those two kernels then boots in the guest rig with the module
# built for it and runs a subset of the guest selftests (the whole suite
# runs on the host's kernel in tests/selftests.sh): their results are
# merged into this TAP.  KERNELS_BOOT=0 only builds.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
OUT=$PWD/tests/out/kernels
echo "TAP version 13"
rm -rf "$OUT"
mkdir -p "$OUT"

# build KVER [ROOT]: a clean copy of the module source built against KVER's
# headers, on the host or, given ROOT, in that chroot.
build()
{
	local src=$OUT/src-$1 log=$OUT/build-$1.log

	mkdir -p "$src"
	git ls-files -z Kbuild Makefile dm-vdisk | xargs -0 -I{} cp --parents {} "$src/"
	if [ -z "${2:-}" ]; then
		make -C "$src" -j"$(nproc)" module KVER="$1" >"$log" 2>&1
	else
		# The copy is mounted on the chroot's /mnt (and objtool wants
		# /proc) in a mount namespace of its own: nothing stays mounted,
		# the chroot is not changed.
		unshare -m --propagation private sh -c \
			'mount --bind "$1" "$2/mnt" &&
			mount -t proc proc "$2/proc" &&
			exec chroot "$2" env -i \
				PATH=/usr/bin:/bin make -C /mnt -j"$3" module KVER="$4"' \
			sh "$src" "$2" "$(nproc)" "$1" >"$log" 2>&1
	fi
	result $? "the module builds against $1"
	[ -f "$src/dm-vdisk/dm-vdisk.ko" ] || { tail -n 15 "$log" | sed 's/^/# /'; return; }
	grep -i 'warning:' "$log" | sed 's/^/# /'
	result "$(grep -ci 'warning:' "$log")" "no compiler warnings for $1"
	modinfo -F vermagic "$src/dm-vdisk/dm-vdisk.ko" | grep -q "^$1 "
	result $? "the module's vermagic is $1"
}

for b in /lib/modules/*/build; do
	[ -d "$b" ] && build "$(basename "$(dirname "$b")")"
done

# Debian 13's kernel and the newest in trixie-backports, with gcc-14.
tests/lib/trixie-chroot.sh >"$OUT/chroot" 2>"$OUT/chroot.log"
result $? "a Debian 13 chroot with gcc-14 and the kernels' headers"
sed 's/^/# /' "$OUT/chroot.log"
root=$(head -n 1 "$OUT/chroot")
while read -r suite kver; do
	echo "# $suite: $kver"
	build "$kver" "$root"
done < <(tail -n +2 "$OUT/chroot")

# The guest subset, one or two cases of each kind (names from
# tests/lib/mkimages.py's cases.txt and the cli_* groups of
# tests/selftests/cases.sh): VMDK sparse, stream-optimized and a VMDK
# chain; seSparse over VMDK; VHDX, with 4 KiB sectors, and a VHDX child;
# QCOW v1 compressed; QCOW2 compressed with zlib and with zstd, with 2 MiB
# clusters (memory held), and a QCOW2 chain; VHD dynamic, fixed and
# differencing; VDI dynamic and differencing; QED and QCOW2 over each other;
# Parallels (ploop-like, version 1); damaged tables (EIO); faults
# under the image (dm-error, dm-delay, dm-flakey), a stream VMDK's too;
# the cache limit (dm-bufio), table readahead, units inflated in part and
# compressed data read in batches; suspend and
# resume; partitions; tables loaded with dmsetup; reads across suspend and
# reload; the overlay (dm-snapshot); and module unload (cli_misc).
SUBSET="random-writes stream-qemu-random chain-3 sesparse-chain
	vhdx-dynamic-1m vhdx-gen-4k-dynamic vhdx-gen-diff-child qcow1-compressed
	qcow2-compressed-zlib qcow2-compressed-zstd qcow2-2m-clusters-compressed
	qcow2-chain-3 qcow2-l2-past-end vhdx-faults stream-faults cache-limit
	qcow2-suspend-resume parts-gpt cli_dmsetup cli_concurrency cli_writes cli_overlay
	cli_misc cli_ahead cli_partial cli_batch vhd-qemu-dynamic-38798848-force-off
	vhd-qemu-fixed-10485760-force-off
	vhd-gen-diff-w2ru vhd-bat-past-end vdi-dynamic-38798848 vdi-differencing
	qed-over-qcow2 qcow2-over-qed parallels-ploop parallels-v1-63"

# boot KVER: the kernel trixie-chroot.sh unpacked, with the module built
# for it, runs the subset in the guest; each of the guest's results is one
# of ours ("KVER: ..."), and its plan must match what it ran.
boot()
{
	local k=$1 kdir=${VDISK_CACHE:-/var/cache/dm-vdisk}/kernels/$1
	local ko=$OUT/src-$1/dm-vdisk/dm-vdisk.ko log=$OUT/guest-$1.log
	local st t0

	if [ ! -f "$ko" ]; then
		echo "# $k: not booted, the module did not build"
		return
	fi
	t0=$(date +%s)
	OUT=$OUT/guest-$k GUEST_KERNEL=$kdir/vmlinuz \
		GUEST_MODULES=$kdir/lib/modules/$k VDISK_KO=$ko \
		VDISK_CASES=$SUBSET GUEST_TIMEOUT=${KERNELS_GUEST_TIMEOUT:-600} \
		tests/selftests.sh >"$log" 2>&1
	st=$?
	echo "# $k: the guest (build, boot, subset) took $(($(date +%s) - t0)) s"
	tap_relay "$k" "$log"
	result "$st" "$k: the guest booted, ran the subset and passed (status $st)"
}
if [ "${KERNELS_BOOT:-1}" != 0 ]; then
	# The images of the guest suite (tests/run-tests.sh makes them once).
	if [ -z "${IMAGES:-}" ]; then
		export IMAGES=$OUT/images
		python3 tests/lib/mkimages.py "$IMAGES" >"$OUT/images.log" 2>&1
		result $? "the guest's images made"
	fi
	# A case renamed in mkimages.py must not drop out of the subset.
	missing=
	for c in $SUBSET; do
		case $c in
		cli_*) grep -q "^$c()" tests/selftests/cases.sh ;;
		*) awk -v c="$c" '$2 == c { f = 1 } END { exit !f }' "$IMAGES/cases.txt" ;;
		esac || missing="$missing $c"
	done
	result "$([ -z "$missing" ]; echo $?)" \
		"every case of the guest subset exists${missing:+ (missing:$missing)}"
	SUBSET="^($(echo $SUBSET | tr ' ' '|'))\$"
	while read -r suite kver; do
		boot "$kver"
	done < <(tail -n +2 "$OUT/chroot")
fi
tap_end
