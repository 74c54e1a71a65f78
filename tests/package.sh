#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian package (make deb: dpkg-buildpackage with debian/): lintian,
# its contents, then a real install in a stock Debian root, which builds
# the module with DKMS and remakes the initramfs, and a purge, which takes
# it all away again.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/in-root.sh

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

# Installed as a user would, but in a copy of the stock Debian 12 root of
# the boot test (tests/lib/stock-root.sh), never on this machine: a run
# killed half way must not leave this machine's dpkg in a mess.
cache=$(tests/lib/stock-root.sh)
result $? "a stock Debian 12 root (cached in ${cache:-?})"
[ -n "$cache" ] || { tap_end; exit 1; }
ROOT=$PWD/tests/out/package-root
rm -rf "$ROOT"
cp -a "$cache" "$ROOT"
cp "$deb" "$ROOT/tmp/"
in_root "$ROOT" "cd /tmp && apt-get install -y ./$(basename "$deb")" >/tmp/deb.log 2>&1
result $? "apt-get install ./$(basename "$deb") (pulls in dkms)"
[ $? -eq 0 ] || tail -n 20 /tmp/deb.log | sed 's/^/# /'
# (build is a link into the root's /usr/src: test it as a link)
for build in "$ROOT"/lib/modules/*/build; do
	[ -L "$build" ] || continue
	kver=$(basename "$(dirname "$build")")
	ko=$ROOT/lib/modules/$kver/updates/dkms/dm-vdisk.ko
	result "$(modinfo -F vermagic "$ko" 2>/dev/null | grep -q "^$kver "; echo $?)" \
		"DKMS built dm-vdisk.ko for the root's kernel $kver"
done
grep -q "Processing triggers for initramfs-tools" /tmp/deb.log
result $? "installing ran update-initramfs (the trigger)"
printf 'web /vms/web.vmdk nofail\n' >"$ROOT/etc/vdisktab"
in_root "$ROOT" "vdisk --version && /lib/systemd/system-generators/vdisk-generator /tmp/g /tmp/g /tmp/g" \
	>>/tmp/deb.log 2>&1
result "$([ $? = 0 ] && [ -L "$ROOT/tmp/g/local-fs.target.wants/vdisk@web.service" ]; echo $?)" \
	"the packaged vdisk and generator run"
# (the stock root has no man: the Documentation= lines cannot be checked)
in_root "$ROOT" "systemd-analyze verify vdisk@web.service" 2>&1 |
	grep -v "Command 'man [a-z]*([58])' failed" >/tmp/verify.log
result "$(! grep -q vdisk /tmp/verify.log; echo $?)" \
	"systemd-analyze verify vdisk@web.service: no complaint"
sed 's/^/# /' /tmp/verify.log
in_root "$ROOT" "apt-get purge -y dm-vdisk" >>/tmp/deb.log 2>&1
result $? "apt-get purge dm-vdisk"
left=$(cd "$ROOT" && ls lib/modules/*/updates/dkms/dm-vdisk.ko usr/sbin/vdisk \
	"usr/src/dm-vdisk-$version" var/lib/dkms/dm-vdisk lib/systemd/system/vdisk@.service 2>/dev/null)
result "$([ -z "$left" ]; echo $?)" "purge leaves no module, helper, source or unit behind"
[ -z "$left" ] || echo "# left: $left"
rm -rf "$ROOT"
tap_end
