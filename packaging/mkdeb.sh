#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make deb: a binary package with the helper (built static-free, against
# Debian's libraries), its man page, and the module source for DKMS.
# usage: mkdeb.sh VERSION OUTDIR
set -eu
cd "$(dirname "$0")/.."
version=$1 out=$2
arch=$(dpkg --print-architecture)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 755 tools/vdisk "$root/usr/sbin/vdisk"
install -d "$root/usr/share/man/man8"
gzip -9n <Documentation/vdisk.8 >"$root/usr/share/man/man8/vdisk.8.gz"
src=$root/usr/src/dm-vdisk-$version
install -d "$src"
git ls-files -z Kbuild Makefile dm-vdisk | xargs -0 -I{} cp --parents {} "$src/"
sed "s/@VERSION@/$version/" dkms.conf >"$src/dkms.conf"
install -d "$root/usr/share/doc/dm-vdisk"
cp README.md Documentation/dm-vdisk.rst "$root/usr/share/doc/dm-vdisk/"
install -d "$root/DEBIAN"
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/" packaging/deb/control >"$root/DEBIAN/control"
for s in postinst prerm; do
	sed "s/@VERSION@/$version/" "packaging/deb/$s" >"$root/DEBIAN/$s"
	chmod 755 "$root/DEBIAN/$s"
done
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$root" "$out/dm-vdisk_${version}_$arch.deb" >/dev/null
echo "$out/dm-vdisk_${version}_$arch.deb"
