#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing need, from Debian's archive, when missing.
set -eu

# libvmdk-utils, libvhdi-utils, libqcow-utils: make bench's FUSE peers
# (vmdkmount, vhdimount, qcowmount).  Not xmount: Debian 12's 0.7.6 reads
# only raw, EWF and AFF input.
PKGS="gcc make libc6-dev linux-image-amd64 linux-headers-amd64 qemu-system-x86
qemu-utils busybox-static dmsetup kmod cpio xz-utils e2fsprogs python3 fio zlib1g-dev libzstd-dev clang libclang-rt-14-dev
initramfs-tools dracut-core dwarves dkms debootstrap bash-completion
dpkg-dev debhelper dh-dkms lintian
linux-source-6.1 bc bison flex libelf-dev libssl-dev
libvmdk-utils libvhdi-utils libqcow-utils"

# A package run that was killed half way (a test that installs ours, say)
# leaves dpkg "interrupted", and apt then refuses everything: finish it.
if [ "$(id -u)" -eq 0 ] && { [ -n "$(dpkg --audit 2>/dev/null)" ] ||
	[ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; }; then
	echo "# dpkg was interrupted: dpkg --configure -a"
	DEBIAN_FRONTEND=noninteractive dpkg --configure -a >/dev/null
fi

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "# installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
