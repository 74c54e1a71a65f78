#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the path of a stock Debian 12 root file system, debootstrapped once
# and cached: systemd, Debian's kernel, initramfs-tools with its defaults
# (MODULES=most, no busybox), and what DKMS needs to build a module - what
# a user who installs our .deb has.  The cache is keyed by a hash of this
# script, so changing the package list or the set-up below makes a new root.
# Callers copy the root; they never change the cached one.
set -eu
CACHE=${VDISK_ROOT_CACHE:-/var/cache/dm-vdisk/roots}
PKGS=systemd-sysv,udev,kmod,e2fsprogs,linux-image-amd64,initramfs-tools,dkms,linux-headers-amd64,gcc,make,libc6-dev,zlib1g,libzstd1

key=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
root=$CACHE/$key/root
if [ -f "$CACHE/$key/done" ]; then
	echo "$root"
	exit 0
fi

# The mirror this machine's apt uses: never a host name written down here.
. "$(dirname "${BASH_SOURCE[0]}")/mirror.sh"
url=$(debian_mirror bookworm)

# The download and unpacking take long: a failure after them does not
# start over.
if [ ! -f "$CACHE/$key/bootstrapped" ]; then
	rm -rf "${CACHE:?}/$key"
	mkdir -p "$CACHE/$key"
	# debootstrap resolves Depends only: no Recommends, so no busybox.
	debootstrap --variant=minbase --include="$PKGS" bookworm "$root" "$url" \
		>"$CACHE/$key/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$CACHE/$key/debootstrap.log" >&2; exit 1; }
	touch "$CACHE/$key/bootstrapped"
fi
if chroot "$root" dpkg-query -W -f='${Status}' busybox 2>/dev/null | grep -q 'ok installed'; then
	echo "stock-root: busybox got in; the root would not be stock" >&2
	exit 1
fi
# Password-less root on the console, like a fresh install a user logs into.
chroot "$root" passwd -d root >/dev/null
echo stock >"$root/etc/hostname"
# The apt the user would have, without the lists (the .deb's dependencies
# are installed already, so installing it needs no network).
echo "deb $url bookworm main" >"$root/etc/apt/sources.list"
chroot "$root" apt-get clean
touch "$CACHE/$key/done"
echo "$root"
