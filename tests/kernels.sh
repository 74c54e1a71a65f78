#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module builds, without a warning, against the kernels Debian users
# run: every kernel with headers on this machine (Debian 12's 6.1), built
# with the host's gcc, and Debian 13's kernel and the newest one in
# trixie-backports, built with their own gcc in a Debian 13 chroot that
# tests/lib/trixie-chroot.sh keeps in /var/cache/dm-vdisk.  Kbuild's
# feature checks (not version numbers) must cover the API differences.  TAP.
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
tap_end
