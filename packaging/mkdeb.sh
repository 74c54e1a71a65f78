#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make deb: a binary package with the helper (built against Debian's
# libraries), its man page, the initramfs-tools hook and the dracut module
# for booting from an image, and the module source for DKMS; a trigger has
# initramfs-tools rebuild the initramfs when the package comes or goes.
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
install -D -m 644 packaging/bash-completion/vdisk \
	"$root/usr/share/bash-completion/completions/vdisk"
src=$root/usr/src/dm-vdisk-$version
install -d "$src"
git ls-files -z Kbuild Makefile dm-vdisk | xargs -0 -I{} cp --parents {} "$src/"
sed "s/@VERSION@/$version/" dkms.conf >"$src/dkms.conf"
for f in hooks/vdisk scripts/local-top/vdisk; do
	install -D -m 755 "packaging/initramfs-tools/$f" "$root/usr/share/initramfs-tools/$f"
done
for f in module-setup.sh parse-vdisk.sh vdisk-root.sh; do
	install -D -m 755 "packaging/dracut/90vdisk/$f" "$root/usr/lib/dracut/modules.d/90vdisk/$f"
done
install -d "$root/usr/share/doc/dm-vdisk"
cp README.md Documentation/dm-vdisk.rst "$root/usr/share/doc/dm-vdisk/"
install -d "$root/DEBIAN"
sed "s/@VERSION@/$version/; s/@ARCH@/$arch/" packaging/deb/control >"$root/DEBIAN/control"
for s in postinst prerm; do
	sed "s/@VERSION@/$version/" "packaging/deb/$s" >"$root/DEBIAN/$s"
	chmod 755 "$root/DEBIAN/$s"
done
install -m 644 packaging/deb/triggers "$root/DEBIAN/triggers"
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$root" "$out/dm-vdisk_${version}_$arch.deb" >/dev/null
echo "$out/dm-vdisk_${version}_$arch.deb"
