#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test guest's initramfs: busybox, dmsetup with its libraries, the
# vdisk helper, Debian's kernel modules for $KVER plus dm-vdisk.ko (with
# modules.dep, so device-mapper's request_module("dm-vdisk") works) and the
# init script.
#
# usage: build-initramfs.sh OUTPUT.cpio.gz
# env:   KVER (default: the last part of GUEST_MODULES, or the newest
#        /lib/modules/* with dm-mod), GUEST_MODULES (the kernel's module
#        tree, with modules.dep; default /lib/modules/$KVER), VDISK_KO (built
#        for that kernel), VDISK_BIN, EXTRA_BINS (more host programs to copy
#        with their libraries), EXTRA_MODS (more modules to copy and load)
set -eu
out=$(realpath -m "$1")
here=$(dirname "$(realpath "$0")")
if [ -n "${GUEST_MODULES:-}" ]; then
	: "${KVER:=$(basename "$GUEST_MODULES")}"
else
	: "${KVER:=$(ls -d /lib/modules/*/kernel/drivers/md/dm-mod.ko 2>/dev/null |
		sort -V | tail -n 1 | cut -d/ -f4)}"
	GUEST_MODULES=/lib/modules/$KVER
fi
[ -n "$KVER" ] && [ -f "$GUEST_MODULES/modules.dep" ] ||
	{ echo "build-initramfs: no kernel modules in ${GUEST_MODULES:-/lib/modules}" >&2; exit 1; }

root=$(mktemp -d)
tree=$(mktemp -d)
trap 'rm -rf "$root" "$tree"' EXIT
# modinfo -b wants BASE/lib/modules/KVER: a base whose tree is the one given.
mkdir -p "$tree/lib/modules"
ln -s "$(realpath "$GUEST_MODULES")" "$tree/lib/modules/$KVER"
kmodinfo()
{
	modinfo -b "$tree" -k "$KVER" "$@"
}
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,data,mnt,usr/sbin,usr/bin,lib64}

cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
done
# The kernel runs /sbin/modprobe for request_module().
for a in modprobe insmod rmmod lsmod; do ln -sf ../bin/busybox "$root/sbin/$a"; done

# Host programs with the shared libraries they need.
copy_bin()
{
	local f
	for f in "$1" $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
}
copy_bin /sbin/dmsetup
# util-linux's blkdiscard: busybox's cannot zero (BLKZEROOUT).
copy_bin /usr/sbin/blkdiscard
for b in ${EXTRA_BINS:-}; do copy_bin "$(command -v "$b" || echo "$b")"; done
if [ -n "${VDISK_BIN:-}" ]; then
	cp "$VDISK_BIN" "$root/usr/sbin/vdisk"
fi

# Modules, with their dependencies, in the kernel tree's layout.  A driver
# may be built in (modules.builtin) on one kernel and a module on another,
# or gone (crc32c_generic and libcrc32c are library code in newer kernels):
# only what is a module here is copied and loaded.
mods="virtio_pci virtio_blk crc32c_generic ext4 loop dm-mod dm-bufio dm-zero
dm-flakey dm-delay dm-snapshot nbd ${EXTRA_MODS:-}"
# And what dm-vdisk.ko links against (libcrc32c), which the list above does
# not pull in; its crc32c driver (a softdep) is crc32c_generic, loaded first.
if [ -n "${VDISK_KO:-}" ] && [ -f "$VDISK_KO" ]; then
	mods="$mods $(modinfo -F depends "$VDISK_KO" | tr ',' ' ')"
fi
closure()
{
	local m d
	for m in "$@"; do
		f=$(kmodinfo -n "$m" 2>/dev/null) || {
			echo "build-initramfs: $KVER has no module $m, skipped" >&2
			continue
		}
		[ "$f" = "(builtin)" ] && continue
		for d in $(kmodinfo -F depends "$m" | tr ',' ' '); do
			closure "$d"
		done
		echo "$m"
	done
}
order=$(closure $mods | awk '!seen[$0]++')
# Compressed modules (Debian's newer kernels ship .ko.xz) go in plain:
# busybox's modprobe cannot read them.
for m in $order; do
	f=$(kmodinfo -n "$m")
	rel=${f#"$tree"/lib/modules/"$KVER"/}
	[ "$rel" != "$f" ] || rel=${f#"$GUEST_MODULES"/}
	dst=$root/lib/modules/$KVER/$rel
	mkdir -p "$(dirname "$dst")"
	case $f in
	*.ko.xz) xz -dc "$f" >"${dst%.xz}" ;;
	*.ko.zst) zstd -q -dc "$f" >"${dst%.zst}" ;;
	*.ko.gz) gzip -dc "$f" >"${dst%.gz}" ;;
	*) cp "$f" "$dst" ;;
	esac
done
mkdir -p "$root/etc"
echo "$order" >"$root/etc/modules"
if [ -n "${VDISK_KO:-}" ] && [ -f "$VDISK_KO" ]; then
	mkdir -p "$root/lib/modules/$KVER/updates"
	cp "$VDISK_KO" "$root/lib/modules/$KVER/updates/"
fi
cp "$GUEST_MODULES"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
depmod -b "$root" "$KVER"

install -m 755 "$here/init" "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
