#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package (make deb): its contents, then a real install, which
# builds the module with DKMS for every kernel with headers, and a purge,
# which takes it all away again.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh

echo "TAP version 13"
deb=$(make -s deb 2>/tmp/deb.err | tail -n 1)
result "$([ -f "$deb" ]; echo $?)" "make deb: $deb"
[ -f "$deb" ] || { sed 's/^/# /' /tmp/deb.err; tap_end; exit 1; }
files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
version=$(dpkg-deb -f "$deb" Version)
for f in ./usr/sbin/vdisk ./usr/share/man/man8/vdisk.8.gz \
	./usr/share/bash-completion/completions/vdisk \
	"./usr/src/dm-vdisk-$version/dkms.conf" "./usr/src/dm-vdisk-$version/Kbuild" \
	"./usr/src/dm-vdisk-$version/dm-vdisk/core/vhdx.c" \
	./usr/share/initramfs-tools/hooks/vdisk ./usr/share/initramfs-tools/scripts/local-top/vdisk \
	./usr/lib/dracut/modules.d/90vdisk/module-setup.sh; do
	echo "$files" | grep -qx "$f"
	result $? "package holds $f"
done

if dpkg-query -W -f='${Status}' dm-vdisk 2>/dev/null | grep -q 'ok installed'; then
	echo "# dm-vdisk is installed on this machine: install test skipped"
	tap_end
	exit
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "./$deb" >/tmp/deb.log 2>&1
result $? "apt-get install $deb (pulls in dkms)"
[ $? -eq 0 ] || tail -n 20 /tmp/deb.log | sed 's/^/# /'
for build in /lib/modules/*/build; do
	[ -d "$build" ] || continue
	kver=$(basename "$(dirname "$build")")
	dkms status -m dm-vdisk -v "$version" -k "$kver" | grep -q installed
	result $? "dkms built and installed the module for $kver"
	ko=/lib/modules/$kver/updates/dkms/dm-vdisk.ko
	result "$(modinfo -F vermagic "$ko" 2>/dev/null | grep -q "^$kver "; echo $?)" \
		"$ko is built for $kver"
done
/usr/sbin/vdisk --version >/dev/null
result $? "the packaged vdisk runs"
apt-get purge -y -qq dm-vdisk >>/tmp/deb.log 2>&1
result $? "apt-get purge dm-vdisk"
left=$(ls /lib/modules/*/updates/dkms/dm-vdisk.ko /usr/sbin/vdisk "/usr/src/dm-vdisk-$version" 2>/dev/null)
result "$([ -z "$left" ]; echo $?)" "purge leaves no module, helper or source behind"
tap_end
