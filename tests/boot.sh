#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot for real from a virtual disk image, the way a user would.
#
# A stock Debian 12 (tests/lib/stock-root.sh: debootstrap, systemd, Debian's
# kernel, initramfs-tools with MODULES=most and no busybox) gets our .deb
# with "apt-get install ./dm-vdisk_*.deb", which builds the module with
# DKMS and, through the package's trigger, remakes the initramfs.  That root
# goes on partition 1 of a disk, converted to QCOW2, VMDK, VHDX, dynamic and
# fixed VHD and VDI, all in an ext4 file system on a virtio disk (BOOT_FORMATS
# picks some).  QEMU boots the root's own
# kernel and initramfs with only the documented parameters; a unit ordered
# after multi-user.target writes a marker, reports on the console and
# powers off.  The image must be unchanged and the shutdown clean.  Then
# the package is purged from the root, and an initramfs dracut makes with
# packaging/dracut boots a small busybox root from each format but QCOW2 and
# VHDX with the host's kernel.  The roots and images go at the end, the
# logs stay (BOOT_KEEP=1 keeps everything).  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
. tests/lib/in-root.sh
OUT=tests/out/boot
echo "TAP version 13"
rm -rf --one-file-system "$OUT"
mkdir -p "$OUT"

# boot LOG KERNEL INITRD APPEND: QEMU under TCG, the console to $OUT/LOG.
# no_timer_check: on a loaded host TCG's timer can look broken to the
# kernel's IO-APIC check, which then panics before anything of ours runs.
boot()
{
	timeout --foreground -k 10 900 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1536 \
		-kernel "$2" -initrd "$3" -append "$4 no_timer_check" \
		-no-reboot -display none -nodefaults -net none -serial "file:$OUT/$1" \
		-drive "file=$OUT/host.ext4,if=virtio,format=raw" </dev/null
}

FORMATS=${BOOT_FORMATS:-qcow2 vmdk vhdx vhd vhd-fixed vdi}

# to_image FMT RAW NAME: RAW converted by qemu-img, written to /vms/NAME.FMT
# in host.ext4 (a fixed VHD is NAME-fixed.vhd); prints that file's name.
# One image at a time outside host.ext4: the disk never holds two copies
# of them all.
to_image()
{
	local file=$3.$1 opts tmp=$OUT/image.tmp size
	case $1 in
	vhd) opts="-O vpc -o subformat=dynamic" ;;
	vhd-fixed) opts="-O vpc -o subformat=fixed" file=$3-fixed.vhd ;;
	*) opts="-O $1" ;;
	esac
	qemu-img convert -f raw $opts "$2" "$tmp" || return
	# debugfs exits 0 even when the write fails: the size tells.
	debugfs -w -R "write $tmp /vms/$file" "$OUT/host.ext4" >/dev/null 2>&1
	size=$(debugfs -R "stat /vms/$file" "$OUT/host.ext4" 2>/dev/null |
		sed -n 's/^User:.* Size: \([0-9]*\)$/\1/p')
	[ "$size" = "$(stat -c %s "$tmp")" ] && echo "$file"
	local st=$?
	rm -f "$tmp"
	return $st
}

image_md5()
{
	debugfs -R "cat /vms/$1" "$OUT/host.ext4" 2>/dev/null | md5sum | cut -d' ' -f1
}

# mbr_disk FILE SIZE_MB [SPLIT_MB]: a disk with an MBR whose partition 1
# (Linux) starts at 1 MiB and fills the rest, or ends at SPLIT_MB, where
# partition 2 starts.
mbr_disk()
{
	python3 - "$1" "$2" "${3:-0}" <<'PY'
import struct, sys
sectors = int(sys.argv[2]) * 2048
split = int(sys.argv[3]) * 2048 or sectors
mbr = bytearray(512)
parts = [(2048, split - 2048)] + ([(split, sectors - split)] if split < sectors else [])
for i, (start, length) in enumerate(parts):
    mbr[446 + 16 * i:462 + 16 * i] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83,
                                                b"\0\0\0", start, length)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "wb") as f:
    f.write(mbr)
    f.truncate(sectors * 512)
PY
}

# --- The stock Debian ---
cache=$(tests/lib/stock-root.sh)
result $? "a stock Debian 12 root (debootstrap, cached in ${cache:-?})"
[ -n "$cache" ] || { tap_end; exit 1; }
ROOT=$OUT/root
cp -a "$cache" "$ROOT"
KV=$(ls "$ROOT/lib/modules" | sort -V | tail -n 1)

# What the guest does once it is up: a oneshot pulled in by, and ordered
# after, multi-user.target (as systemd-update-utmp-runlevel.service is), so
# it runs once that target is reached, then powers off the normal way, so
# the shutdown shows what systemd does with our mounts.
cat >"$ROOT/usr/local/sbin/vdisk-boot-ok" <<'EOF'
#!/bin/sh
echo "written by the guest" >/vdisk-marker && sync
echo "VDISK-BOOT-OK pid1=$(cat /proc/1/comm)" \
	"multi-user=$(systemctl is-active multi-user.target)" \
	"root=$(findmnt -n -o SOURCE /) marker=$(tr ' ' _ </vdisk-marker)" >/dev/console
# /etc/vdisktab: what the generator's units and fstab made of it.
state()
{
	for u in data inner broken bogus; do
		printf ' %s=%s' $u "$(systemctl is-active vdisk@$u.service)"
	done
}
same()
{
	[ -e "$1" ] && [ "$(readlink -f "$1")" = "$(readlink -f "$2")" ] && echo ok
}
echo "VDISK-TAB$(state)" \
	"srvdata=$(tr ' ' _ </srv/data/data.txt) srvinner=$(tr ' ' _ </srv/inner/inner.txt)" \
	"label=$(same /dev/disk/by-label/vtlabel /dev/mapper/datap2)" \
	"uuid=$(same /dev/disk/by-id/dm-uuid-VDISK-datap1 /dev/mapper/datap1)" >/dev/console
for u in broken bogus; do
	echo "VDISK-TAB-$u $(journalctl -b -o cat -u vdisk@$u.service | grep -m 1 '^vdisk: ')" >/dev/console
done
# By hand, as a user would: with udev running, create returns once the
# links exist, and remove once they are gone.
made=$(vdisk create byhand /images/data.vhdx >/dev/null &&
	[ -L /dev/disk/by-id/dm-name-byhandp2 ] && [ -L /dev/mapper/byhandp1 ] && echo ok)
gone=$(vdisk remove byhand && [ ! -e /dev/disk/by-id/dm-name-byhandp2 ] &&
	[ ! -e /dev/mapper/byhand ] && echo ok)
echo "VDISK-BYHAND made=$made gone=$gone" >/dev/console
systemctl --no-block poweroff
EOF
chmod 755 "$ROOT/usr/local/sbin/vdisk-boot-ok"
cat >"$ROOT/etc/systemd/system/vdisk-boot-ok.service" <<'EOF'
[Unit]
Description=dm-vdisk boot test: report on the console, power off
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vdisk-boot-ok

[Install]
WantedBy=multi-user.target
EOF
# At shutdown, once the vdisktab units have stopped (it is ordered before
# them, so it stops after them), say whether their devices went.  On the
# console by a plain write: systemd's own status lines there are dropped
# when the serial line is busy.
cat >"$ROOT/etc/systemd/system/vdisk-stop-check.service" <<'EOF'
[Unit]
Description=dm-vdisk boot test: at shutdown, are the vdisktab devices gone
DefaultDependencies=no
Before=vdisk@data.service vdisk@inner.service shutdown.target
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
ExecStop=/bin/sh -c 'for d in data inner; do [ -e /dev/mapper/$d ] && s="$s $d=there" || s="$s $d=gone"; done; echo "VDISK-STOPPED$s" >/dev/console'

[Install]
WantedBy=multi-user.target
EOF
echo "/dev/mapper/vdiskroot / ext4 errors=remount-ro 0 1" >"$ROOT/etc/fstab"

# Images mapped at boot from /etc/vdisktab (vdisktab(5)).  data.vhdx, in the
# root, has two partitions: ext4 with a file and inner.qcow2, and ext4
# labelled vtlabel.  inner.qcow2, a whole-disk ext4, lives on data's
# partition 1, which fstab mounts: its unit must wait for that mount.  A
# line naming a missing image and one with a wrong option fail alone.
tab=$OUT/tab
mkdir -p "$tab/p1" "$tab/p2" "$tab/inner" "$ROOT/images" "$ROOT/srv/data" "$ROOT/srv/inner"
echo "inner file system" >"$tab/inner/inner.txt"
mkfs.ext4 -q -F -L vtinner -d "$tab/inner" "$tab/inner.raw" 8M >/dev/null
qemu-img convert -f raw -O qcow2 "$tab/inner.raw" "$tab/p1/inner.qcow2"
echo "data partition 1" >"$tab/p1/data.txt"
echo "data partition 2" >"$tab/p2/data.txt"
mbr_disk "$tab/data.raw" 48 24
mkfs.ext4 -q -F -E offset=$((1 << 20)) -d "$tab/p1" "$tab/data.raw" 23M &&
	mkfs.ext4 -q -F -L vtlabel -E offset=$((24 << 20)) -d "$tab/p2" "$tab/data.raw" 24M &&
	qemu-img convert -f raw -O vhdx "$tab/data.raw" "$ROOT/images/data.vhdx"
result $? "vdisktab: an image with two partitions, the second holding another image"
cat >"$ROOT/etc/vdisktab" <<'EOF'
# dm-vdisk boot test
data	/images/data.vhdx
inner	/srv/data/inner.qcow2	no-partitions
broken	/images/missing.vmdk
bogus	/images/data.vhdx	frobnicate,nofail
EOF
cat >>"$ROOT/etc/fstab" <<'EOF'
/dev/mapper/datap1 /srv/data ext4 ro 0 0
/dev/mapper/inner /srv/inner ext4 ro 0 0
EOF

# Install the package as a user would, in the root (its kernel, not ours).
deb=$(make -s deb 2>"$OUT/deb.err" | tail -n 1)
result "$([ -f "$deb" ]; echo $?)" "make deb: $deb"
cp "$deb" "$ROOT/tmp/"
in_root "$ROOT" 'cd /tmp && apt-get install -y ./dm-vdisk_*.deb && systemctl enable vdisk-boot-ok.service vdisk-stop-check.service' \
	>"$OUT/install.log" 2>&1
status=$?
result $status "apt-get install ./$(basename "$deb") in the root"
[ $status -eq 0 ] || tail -n 20 "$OUT/install.log" | sed 's/^/# /'
rm -f "$ROOT"/tmp/dm-vdisk_*.deb
grep -q "Processing triggers for initramfs-tools" "$OUT/install.log"
result $? "the package's trigger ran update-initramfs"
ko=$(ls "$ROOT/lib/modules/$KV/updates/dkms/dm-vdisk.ko" 2>/dev/null)
result "$([ -n "$ko" ]; echo $?)" "DKMS built dm-vdisk.ko for the root's kernel $KV"
lsinitramfs "$ROOT/boot/initrd.img-$KV" >"$OUT/initrd.list" 2>/dev/null
for f in dm-vdisk.ko sbin/vdisk scripts/local-top/vdisk; do
	grep -q "$f\$" "$OUT/initrd.list"
	result $? "the root's initramfs holds $f"
done
grep -q 'busybox' "$OUT/initrd.list"
result "$([ $? -ne 0 ]; echo $?)" "the root's initramfs has no busybox"
grep -q '^MODULES=most' "$ROOT/etc/initramfs-tools/initramfs.conf"
result $? "the root's initramfs-tools keeps MODULES=most"
in_root "$ROOT" "vdisk --version && /lib/systemd/system-generators/vdisk-generator /tmp/g /tmp/g /tmp/g" \
	>>"$OUT/install.log" 2>&1
result "$([ $? = 0 ] && [ -L "$ROOT/tmp/g/local-fs.target.wants/vdisk@data.service" ]; echo $?)" \
	"the packaged vdisk and generator run"
rm -rf "$ROOT/tmp/g"
# (the stock root has no man: the Documentation= lines cannot be checked)
in_root "$ROOT" "systemd-analyze verify vdisk@data.service" 2>&1 |
	grep -v "Command 'man [a-z]*([58])' failed" >"$OUT/verify.log"
result "$(! grep -q vdisk "$OUT/verify.log"; echo $?)" \
	"systemd-analyze verify vdisk@data.service: no complaint"
sed 's/^/# /' "$OUT/verify.log"

# The root on partition 1 of a disk, in each format.
size=$(du -sm "$ROOT" | cut -f1)
mbr_disk "$OUT/disk.raw" $((size * 13 / 10 + 200))
# The host file system, sparse, with room for every image at its largest
# (a fixed VHD: the whole disk).
nfmt=$(echo $FORMATS | wc -w)
truncate -s $(((size * 13 / 10 + 300) * nfmt + 64 * nfmt + 256))M "$OUT/host.ext4"
mkfs.ext4 -q -F -T largefile -L vdhost "$OUT/host.ext4" >/dev/null &&
	debugfs -w -R "mkdir /vms" "$OUT/host.ext4" >/dev/null 2>&1
result $? "the host file system (ext4) for the images"
mkfs.ext4 -q -F -L guestroot -E offset=1048576 -d "$ROOT" "$OUT/disk.raw" \
	$((size * 13 / 10 + 199))M
result $? "the root as ext4 on partition 1 (${size} MiB of files)"
declare -A stock_img small_img
for fmt in $FORMATS; do
	stock_img[$fmt]=$(to_image "$fmt" "$OUT/disk.raw" debian)
	result $? "the root's disk as ${stock_img[$fmt]}"
done
rm -f "$OUT/disk.raw"
# For the dracut boots below: a small busybox root, in each format but
# QCOW2 and VHDX (the stock boots have those).
KVER=${KVER:-$(ls -d /lib/modules/*/kernel/drivers/md/dm-mod.ko 2>/dev/null |
	sort -V | tail -n 1 | cut -d/ -f4)}
small=$OUT/small
mkdir -p "$small/bin" "$small/sbin"
# dracut switches only to a root with these (usable_root).
for d in proc sys dev run tmp; do mkdir -p "$small/$d"; done
cp /bin/busybox "$small/bin/busybox"
cat >"$small/sbin/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "written by the guest" >/hello && /bin/busybox sync
root=$(/bin/busybox awk '$2 == "/" { print $1 }' /proc/mounts)
echo "VDISK-BOOT-OK root=$root hello=$(/bin/busybox cat /hello | /bin/busybox tr ' ' _)" >/dev/console
/bin/busybox poweroff -f
INIT
chmod 755 "$small/sbin/init"
mbr_disk "$OUT/small.raw" 41
mkfs.ext4 -q -F -L smallroot -E offset=1048576 -d "$small" "$OUT/small.raw" 40M
for fmt in $FORMATS; do
	case $fmt in qcow2|vhdx) continue ;; esac
	small_img[$fmt]=$(to_image "$fmt" "$OUT/small.raw" small)
	result $? "the small root's disk as ${small_img[$fmt]}"
done
rm -f "$OUT/small.raw"
e2fsck -fn "$OUT/host.ext4" >"$OUT/host.fsck" 2>&1
result $? "the images' ext4 file system is clean (e2fsck)"

# tab_checks FMT LOG: what the guest said of /etc/vdisktab.
tab_checks()
{
	local line
	line=$(grep -a 'VDISK-TAB ' "$2" | tail -n 1)
	echo "$line" | grep -q ' data=active inner=active '
	result $? "$1: vdisktab: the units of both good lines are active"
	echo "$line" | grep -q ' broken=failed bogus=failed'
	result $? "$1: vdisktab: a missing image and a wrong option fail their units only"
	echo "$line" | grep -q 'srvdata=data_partition_1 srvinner=inner_file_system '
	result $? "$1: vdisktab: fstab mounted a partition, and the image inside it"
	echo "$line" | grep -q 'label=ok uuid=ok'
	result $? "$1: vdisktab: udev made the by-label and dm-uuid links"
	[ -n "$line" ] || grep -a 'vdisk\|srv' "$2" | tail -n 20 | sed 's/^/# /'
	grep -aq "VDISK-TAB-broken vdisk: /images/missing.vmdk: No such file" "$2"
	result $? "$1: vdisktab: the journal names the missing image"
	grep -aqF 'VDISK-TAB-bogus vdisk: /etc/vdisktab:5 (bogus): unknown option "frobnicate"' "$2"
	result $? "$1: vdisktab: the journal names the wrong line and option"
	grep -aq 'VDISK-BYHAND made=ok gone=ok' "$2"
	result $? "$1: with udev, create returns with the links made, remove with them gone"
	grep -aq 'VDISK-STOPPED data=gone inner=gone' "$2"
	result $? "$1: vdisktab: shutdown stopped (removed) both"
	grep -a -i 'vdisk@.*fail\|in use' "$2" | grep -v 'broken\|bogus' | sed 's/^/# /'
}

for fmt in $FORMATS; do
	log=stock.$fmt.log
	img=${stock_img[$fmt]}
	before=$(image_md5 "$img")
	start=$SECONDS
	boot "$log" "$ROOT/boot/vmlinuz-$KV" "$ROOT/boot/initrd.img-$KV" \
		"vdisk.root=LABEL=vdhost:/vms/$img vdisk.partition=1 console=ttyS0"
	line=$(grep -a 'VDISK-BOOT-OK' "$OUT/$log" | tail -n 1)
	result "$([ -n "$line" ]; echo $?)" \
		"$fmt: the stock Debian booted from the image ($((SECONDS - start)) s)"
	echo "$line" | grep -q 'pid1=systemd multi-user=active '
	result $? "$fmt: systemd is PID 1 and reached multi-user.target"
	echo "$line" | grep -q 'root=/dev/mapper/vdiskroot '
	result $? "$fmt: its root is /dev/mapper/vdiskroot"
	echo "$line" | grep -q 'marker=written_by_the_guest'
	result $? "$fmt: it wrote a marker to its root (the RAM overlay)"
	[ -n "$line" ] || tail -n 25 "$OUT/$log" | sed 's/^/# /'
	tab_checks "$fmt" "$OUT/$log"
	result "$([ "$(image_md5 "$img")" = "$before" ]; echo $?)" \
		"$fmt: the image is unchanged"
	# systemd must neither stop nor unmount the image's file system (the
	# root's loop device holds it until power-off).  The loop and dm
	# devices under the root stay, as for any root on LVM or LUKS.
	bad=$(grep -a -i -E 'fail.*(unmount|umount)|vdisk.?host|not all file systems' "$OUT/$log")
	grep -aq 'All filesystems unmounted' "$OUT/$log"
	result "$([ $? -eq 0 ] && [ -z "$bad" ]; echo $?)" \
		"$fmt: the shutdown unmounted all file systems, without failures"
	[ -z "$bad" ] || echo "$bad" | sed 's/^/# /'
	grep -aq 'reboot: Power down' "$OUT/$log"
	result $? "$fmt: the guest powered off"
done

# A wrong path: a clear message, then the initramfs's panic (panic=-1:
# at once, so QEMU exits).
boot missing.log "$ROOT/boot/vmlinuz-$KV" "$ROOT/boot/initrd.img-$KV" \
	"vdisk.root=LABEL=vdhost:/vms/missing.vmdk console=ttyS0 panic=-1"
grep -aq 'vdisk: /vms/missing.vmdk not found on /dev/vda' "$OUT/missing.log"
result $? "a missing image: \"vdisk: /vms/missing.vmdk not found on /dev/vda\""

# The package goes as it came: the root (a copy, booted for the last
# time) is purged of it.
version=$(dpkg-deb -f "$deb" Version)
in_root "$ROOT" "apt-get purge -y dm-vdisk" >"$OUT/purge.log" 2>&1
result $? "apt-get purge dm-vdisk in the root"
left=$(cd "$ROOT" && ls lib/modules/*/updates/dkms/dm-vdisk.ko usr/sbin/vdisk \
	"usr/src/dm-vdisk-$version" var/lib/dkms/dm-vdisk lib/systemd/system/vdisk@.service 2>/dev/null)
result "$([ -z "$left" ]; echo $?)" "purge leaves no module, helper, source or unit behind"
[ -z "$left" ] || echo "# left: $left"
lsinitramfs "$ROOT/boot/initrd.img-$KV" 2>/dev/null | grep -q 'dm-vdisk.ko$'
result "$([ $? -ne 0 ]; echo $?)" "the purge remade the initramfs without dm-vdisk.ko"

# --- dracut (Fedora, RHEL, ...): our module in a copy of dracut's ---
# The guest's root is busybox, but the host file system is mounted by our
# module alone: no busybox in the initramfs, ext4 not loaded beforehand.
cp -a /usr/lib/dracut "$OUT/dracut"
cp -r packaging/dracut/90vdisk "$OUT/dracut/modules.d/"
VDISK_KO=$PWD/dm-vdisk/dm-vdisk.ko VDISK_BIN=$PWD/tools/vdisk-static \
	dracutbasedir=$PWD/$OUT/dracut dracut --force --no-hostonly --no-hostonly-cmdline \
	-m "bash base udev-rules kernel-modules rootfs-block dm vdisk" \
	--add-drivers "virtio_pci virtio_blk" "$OUT/dracut.img" "$KVER" \
	>"$OUT/dracut.log" 2>&1
result $? "dracut with the vdisk module for $KVER"
lsinitrd "$OUT/dracut.img" 2>/dev/null | grep -q 'busybox'
result "$([ $? -ne 0 ]; echo $?)" "the dracut initramfs has no busybox"
for fmt in $FORMATS; do
	img=${small_img[$fmt]:-}
	[ -n "$img" ] || continue
	log=small.dracut.$fmt.log
	before=$(image_md5 "$img")
	start=$SECONDS
	boot "$log" "/boot/vmlinuz-$KVER" "$OUT/dracut.img" \
		"console=ttyS0 panic=-1 rd.shell=0 rw vdisk.root=LABEL=vdhost:/vms/$img vdisk.overlay=ram vdisk.partition=1"
	line=$(grep -a 'VDISK-BOOT-OK' "$OUT/$log" | grep -v 'echo' | tail -n 1)
	result "$([ -n "$line" ]; echo $?)" \
		"dracut, $fmt: the guest booted into the image's init ($((SECONDS - start)) s)"
	echo "$line" | grep -q 'root=/dev/mapper/vdiskroot '
	result $? "dracut, $fmt: its root is /dev/mapper/vdiskroot"
	echo "$line" | grep -q 'hello=written_by_the_guest'
	result $? "dracut, $fmt: it wrote a file to its root (the RAM overlay)"
	[ -n "$line" ] || tail -n 25 "$OUT/$log" | sed 's/^/# /'
	result "$([ "$(image_md5 "$img")" = "$before" ]; echo $?)" \
		"dracut, $fmt: the image is unchanged"
done
# The suites after this one need the disk space; the logs stay.
[ -n "${BOOT_KEEP:-}" ] || rm -rf --one-file-system "$OUT/host.ext4" "$ROOT" "$OUT/small" "$OUT/dracut" "$OUT/tab"
tap_end
