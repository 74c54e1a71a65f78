#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module builds against more than one kernel: every kernel with headers
# on this machine, and the newest Debian offers for Debian 12 (from
# bookworm-backports), fetched into tests/out with a private apt state and
# unpacked there, without installing anything.  Kbuild's feature checks
# (not version numbers) must cover the API differences.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
OUT=$PWD/tests/out/kernels
echo "TAP version 13"
rm -rf "$OUT"
mkdir -p "$OUT/lists/partial" "$OUT/cache/archives/partial" "$OUT/debs" "$OUT/root"

# build KDIR KVER: a clean copy of the module source built against KDIR.
build()
{
	local src=$OUT/src-$2

	mkdir -p "$src"
	git ls-files -z Kbuild Makefile dm-vdisk | xargs -0 -I{} cp --parents {} "$src/"
	make -C "$src" module KDIR="$1" >"$OUT/build-$2.log" 2>&1
	result $? "the module builds against $2"
	[ -f "$src/dm-vdisk/dm-vdisk.ko" ] || { tail -n 15 "$OUT/build-$2.log" | sed 's/^/# /'; return; }
	result "$(grep -c 'warning:' "$OUT/build-$2.log")" "no compiler warnings for $2"
	modinfo -F vermagic "$src/dm-vdisk/dm-vdisk.ko" | grep -q "^$2 "
	result $? "the module's vermagic is $2"
}

for b in /lib/modules/*/build; do
	[ -d "$b" ] && build "$b" "$(basename "$(dirname "$b")")"
done

# Debian 12's newest kernel headers, from bookworm-backports.
echo "deb http://deb.debian.org/debian bookworm-backports main" >"$OUT/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$OUT/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$OUT/lists" -o "Dir::Cache=$OUT/cache" -o APT::Sandbox::User=root)
apt-get "${apt_opts[@]}" -qq update >"$OUT/apt.log" 2>&1
result $? "apt-get update (bookworm-backports, private state)"
pkg=$(apt-cache "${apt_opts[@]}" search --names-only '^linux-headers-[0-9.]+\+[a-z0-9+.]+-amd64$' |
	cut -d' ' -f1 | sort -V | tail -n 1)
kver=${pkg#linux-headers-}
result "$([ -n "$kver" ]; echo $?)" "newest headers in bookworm-backports: ${kver:-none}"
if [ -n "$kver" ]; then
	common=${pkg%-amd64}-common
	kbuild=linux-kbuild-${kver%-amd64}
	(cd "$OUT/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg" "$common" "$kbuild") \
		>>"$OUT/apt.log" 2>&1
	result $? "apt-get download $pkg $common $kbuild"
	for d in "$OUT"/debs/*.deb; do dpkg -x "$d" "$OUT/root"; done
	kdir=$OUT/root/usr/src/$pkg
	# Its Makefile includes the common part by absolute path.
	sed -i "s|include /usr/src/|include $OUT/root/usr/src/|" "$kdir/Makefile"
	build "$kdir" "$kver"
fi
tap_end
