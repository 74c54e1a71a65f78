#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A Debian 13 (trixie) chroot to build the module for kernels newer than
# Debian 12's gcc-12 can build: gcc-14 and the headers of trixie's kernel
# and of the newest kernel in trixie-backports (looked up on every run).
# Each of these kernels is also unpacked (vmlinuz, /lib/modules/KVER) for a
# guest to boot.  Everything lives outside the clone:
#
#   $CACHE/chroots/trixie-KEY/root      the chroot (KEY: hash of this script)
#   $CACHE/kernels/KVER/vmlinuz         the kernel
#   $CACHE/kernels/KVER/lib/modules/KVER its modules
#
# Prints the chroot's path, then one line "SUITE KVER" per kernel.  Only
# Debian's packages, from the mirror this machine's apt uses; nothing is
# installed on the host.
set -eu
CACHE=${VDISK_CACHE:-/var/cache/dm-vdisk}
. "$(dirname "${BASH_SOURCE[0]}")/mirror.sh"

key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
dir=$CACHE/chroots/trixie-$key
root=$dir/root
url=$(debian_mirror)

# in_root CMD...: run CMD in the chroot with /proc, in a mount namespace of
# its own, so nothing stays mounted when it ends.
in_root()
{
	unshare -m --propagation private sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "$@"
}

fail()
{
	echo "trixie-chroot: $1 (log: $log)" >&2
	tail -n 15 "$log" >&2
	exit 1
}

if [ ! -f "$dir/bootstrapped" ]; then
	rm -rf "${dir:?}"
	mkdir -p "$dir"
	log=$dir/debootstrap.log
	debootstrap --variant=minbase --include=make,gcc-14,kmod trixie \
		"$root" "$url" >"$log" 2>&1 || fail "debootstrap failed"
	touch "$dir/bootstrapped"
fi
log=$dir/last-run.log
: >"$log"

printf 'deb %s %s main\n' "$url" trixie "$url" trixie-backports \
	>"$root/etc/apt/sources.list"
in_root apt-get -q update >>"$log" 2>&1 || fail "apt-get update failed"

# The kernel a metapackage of SUITE depends on (Depends: linux-headers-KVER).
kver_of()
{
	local v

	v=$(in_root apt-cache madison linux-headers-amd64 |
		awk -v s="$1" '$0 ~ " " s "/main " { print $3; exit }')
	[ -n "$v" ] || return 1
	in_root apt-cache show "linux-headers-amd64=$v" |
		sed -n 's/^Depends:.*linux-headers-\([^ ,]*-amd64\) .*/\1/p' | head -n 1
}

kvers=
for suite in trixie trixie-backports; do
	k=$(kver_of "$suite") || fail "no linux-headers-amd64 in $suite"
	kvers="$kvers $suite:$k"
done

pkgs=
for sk in $kvers; do
	pkgs="$pkgs linux-headers-${sk#*:}"
done
# A run stopped while dpkg worked leaves it half done: finish that first.
in_root dpkg --configure -a >>"$log" 2>&1
# shellcheck disable=SC2086 # a list of package names
in_root apt-get -q -y --no-install-recommends install $pkgs >>"$log" 2>&1 ||
	fail "apt-get install$pkgs failed"

# The kernel and its modules, unpacked (never installed) for a guest.
for sk in $kvers; do
	k=${sk#*:}
	kdir=$CACHE/kernels/$k
	[ -f "$kdir/done" ] && continue
	rm -rf "$kdir" "$root/tmp/debs"
	mkdir -p "$kdir" "$root/tmp/debs"
	# linux-image-KVER is split in parts named after KVER (binary, modules).
	debs=$(in_root apt-cache depends "linux-image-$k" |
		awk -v k="$k" '$1 == "Depends:" && index($2, k) { print $2 }')
	# shellcheck disable=SC2086 # a list of package names
	in_root sh -c 'cd /tmp/debs && exec apt-get -q "$@"' sh \
		-o APT::Sandbox::User=root download "linux-image-$k" $debs \
		>>"$log" 2>&1 || fail "apt-get download linux-image-$k failed"
	for d in "$root"/tmp/debs/*.deb; do
		dpkg -x "$d" "$kdir"
	done
	rm -rf "$root/tmp/debs"
	# Modules under /usr/lib (merged /usr) or /lib: the same path for both.
	if [ ! -d "$kdir/lib/modules/$k" ] && [ -d "$kdir/usr/lib/modules/$k" ]; then
		ln -s usr/lib "$kdir/lib"
	fi
	# vmlinuz is in /boot, or (7.x) beside the modules.
	for v in "boot/vmlinuz-$k" "lib/modules/$k/vmlinuz"; do
		[ -f "$kdir/$v" ] && ln -sf "$v" "$kdir/vmlinuz" && break
	done
	[ -f "$kdir/vmlinuz" ] && [ -d "$kdir/lib/modules/$k/kernel" ] ||
		fail "linux-image-$k has no vmlinuz or modules"
	# modules.dep, which installing the package would have made, by the
	# chroot's depmod (it knows how these modules are compressed).
	unshare -m --propagation private sh -c \
		'mount --bind "$1" "$2/mnt" && exec chroot "$2" depmod -b /mnt "$3"' \
		sh "$kdir" "$root" "$k" >>"$log" 2>&1 || fail "depmod $k failed"
	touch "$kdir/done"
done
in_root apt-get clean

echo "$root"
for sk in $kvers; do
	echo "${sk%%:*} ${sk#*:}"
done
