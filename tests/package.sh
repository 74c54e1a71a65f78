#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package (make deb: dpkg-buildpackage with debian/): lintian
# and its contents.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

echo "TAP version 13"
deb=$(make -s deb 2>/tmp/deb.err | tail -n 1)
result "$([ -f "$deb" ]; echo $?)" "make deb (dpkg-buildpackage, debhelper, dh-dkms): $deb"
[ -f "$deb" ] || { sed 's/^/# /' /tmp/deb.err; tap_end; exit 1; }
lintian --allow-root --fail-on error,warning "${deb%.deb}.changes" >/tmp/lintian.log 2>&1
result $? "lintian: no error or warning"
grep -v '^N:' /tmp/lintian.log | sed 's/^/# /'
files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
version=$(dpkg-deb -f "$deb" Version)
for f in ./usr/sbin/vdisk ./usr/share/man/man8/vdisk.8.gz ./usr/share/man/man5/vdisktab.5.gz \
	./usr/share/bash-completion/completions/vdisk \
	"./usr/src/dm-vdisk-$version/dkms.conf" "./usr/src/dm-vdisk-$version/Kbuild" \
	"./usr/src/dm-vdisk-$version/dm-vdisk/core/vhdx.c" \
	./usr/share/initramfs-tools/hooks/vdisk ./usr/share/initramfs-tools/scripts/local-top/vdisk \
	./usr/lib/dracut/modules.d/90vdisk/module-setup.sh \
	./lib/systemd/system/vdisk@.service ./lib/systemd/system-generators/vdisk-generator; do
	echo "$files" | grep -qx "$f"
	result $? "package holds $f"
done
dpkg-deb -c "$deb" >/tmp/deb.list
grep -q '^-rwxr-xr-x .* ./lib/systemd/system-generators/vdisk-generator$' /tmp/deb.list
result $? "the generator is executable"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./triggers 2>/dev/null | grep -qx 'activate-noawait update-initramfs'
result $? "the package activates initramfs-tools' trigger"
grep -q "PACKAGE_VERSION=\"$version\"" <(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/dm-vdisk-$version/dkms.conf")
result $? "dkms.conf names version $version"

# Installing, using and purging it in a stock Debian root, as a user
# would, is tests/boot.sh's part (it boots that root), never done on this
# machine: a run killed half way would leave this machine's dpkg in a mess.
tap_end
