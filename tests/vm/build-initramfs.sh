#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test guest's initramfs: busybox, dmsetup with its libraries, the
# vdisk helper, Debian's kernel modules for $KVER plus dm-vdisk.ko (with
# modules.dep, so device-mapper's request_module("dm-vdisk") works) and the
# init script.
#
# usage: build-initramfs.sh OUTPUT.cpio.gz
# env:   KVER (default: newest /lib/modules/* with dm-mod), VDISK_KO,
#        VDISK_BIN, EXTRA_BINS (more host programs to copy with their libraries)
set -eu
out=$(realpath -m "$1")
here=$(dirname "$(realpath "$0")")
: "${KVER:=$(ls -d /lib/modules/*/kernel/drivers/md/dm-mod.ko 2>/dev/null |
	sort -V | tail -n 1 | cut -d/ -f4)}"
[ -n "$KVER" ] || { echo "build-initramfs: no Debian kernel modules found" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
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
for b in ${EXTRA_BINS:-}; do copy_bin "$(command -v "$b" || echo "$b")"; done
if [ -n "${VDISK_BIN:-}" ]; then
	cp "$VDISK_BIN" "$root/usr/sbin/vdisk"
fi

# Modules, with their dependencies, in the host tree's layout.
mods="virtio_pci virtio_blk crc32c_generic ext4 loop dm-mod dm-bufio dm-zero
dm-flakey dm-delay dm-snapshot nbd"
# And what dm-vdisk.ko links against (libcrc32c), which the list above does
# not pull in; its crc32c driver (a softdep) is crc32c_generic, loaded first.
if [ -n "${VDISK_KO:-}" ] && [ -f "$VDISK_KO" ]; then
	mods="$mods $(modinfo -F depends "$VDISK_KO" | tr ',' ' ')"
fi
closure()
{
	local m d
	for m in "$@"; do
		for d in $(modinfo -k "$KVER" -F depends "$m" | tr ',' ' '); do
			closure "$d"
		done
		echo "$m"
	done
}
order=$(closure $mods | awk '!seen[$0]++')
for m in $order; do
	f=$(modinfo -k "$KVER" -n "$m")
	mkdir -p "$root$(dirname "$f")"
	cp "$f" "$root$f"
done
mkdir -p "$root/etc"
echo "$order" >"$root/etc/modules"
if [ -n "${VDISK_KO:-}" ] && [ -f "$VDISK_KO" ]; then
	mkdir -p "$root/lib/modules/$KVER/updates"
	cp "$VDISK_KO" "$root/lib/modules/$KVER/updates/"
fi
cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"
depmod -b "$root" "$KVER"

install -m 755 "$here/init" "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
