#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot for real from a virtual disk image: a small root file system (busybox)
# on partition 1 of a disk, converted to VMDK and to QCOW2, both in an ext4
# file system on a virtio disk.  Debian's kernel boots with an initramfs
# that Debian's mkinitramfs makes with our hook (packaging/initramfs-tools),
# maps the image with a RAM overlay and mounts the partition as root; the
# image's init writes a file and reports.  The image must be unchanged.
# Then the same with an initramfs dracut makes with packaging/dracut.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
OUT=tests/out/boot
KVER=${KVER:-$(ls -d /lib/modules/*/kernel/drivers/md/dm-mod.ko 2>/dev/null |
	sort -V | tail -n 1 | cut -d/ -f4)}
echo "TAP version 13"
rm -rf "$OUT"
mkdir -p "$OUT/root/bin" "$OUT/root/sbin" "$OUT/host/images" "$OUT/conf"
for d in proc sys dev run tmp; do mkdir -p "$OUT/root/$d"; done

# The guest's root: busybox and an init that writes to its root and reports.
cp /bin/busybox "$OUT/root/bin/busybox"
cat >"$OUT/root/sbin/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "written by the guest" >/hello && /bin/busybox sync
root=$(/bin/busybox awk '$2 == "/" { print $1 }' /proc/mounts)
echo "VDISK-BOOT-OK root=$root hello=$(/bin/busybox cat /hello | /bin/busybox tr ' ' _)" >/dev/console
/bin/busybox poweroff -f
INIT
chmod 755 "$OUT/root/sbin/init"
mkfs.ext4 -q -F -L guestroot -d "$OUT/root" "$OUT/part.ext4" 40M
# A disk with an MBR and the file system as partition 1 (at 1 MiB).
python3 - "$OUT/part.ext4" "$OUT/disk.raw" <<'PY'
import os, struct, sys
part = os.path.getsize(sys.argv[1]) // 512
mbr = bytearray(512)
mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", 2048, part)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[2], "wb") as f:
    f.write(mbr)
    f.truncate((2048 + part) * 512)
PY
dd if="$OUT/part.ext4" of="$OUT/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
qemu-img convert -f raw -O vmdk "$OUT/disk.raw" "$OUT/host/images/root.vmdk"
qemu-img convert -f raw -O qcow2 "$OUT/disk.raw" "$OUT/host/images/root.qcow2"
mkfs.ext4 -q -F -L vdhost -d "$OUT/host" "$OUT/host.ext4" 128M

# The initramfs: Debian's configuration, a short module list, our hook.
cp -r /etc/initramfs-tools/. "$OUT/conf/"
sed -i 's/^MODULES=.*/MODULES=list/; s/^COMPRESS=.*/COMPRESS=gzip/' "$OUT/conf/initramfs.conf"
printf '%s\n' virtio_pci virtio_blk ext4 >"$OUT/conf/modules"
cp -r packaging/initramfs-tools/hooks packaging/initramfs-tools/scripts "$OUT/conf/"
VDISK_KO=$PWD/dm-vdisk/dm-vdisk.ko VDISK_BIN=$PWD/tools/vdisk-static \
	mkinitramfs -d "$OUT/conf" -o "$OUT/initrd.img" "$KVER" >"$OUT/mkinitramfs.log" 2>&1
result $? "mkinitramfs with the vdisk hook for $KVER"
lsinitramfs "$OUT/initrd.img" >"$OUT/initrd.list" 2>/dev/null
for f in sbin/vdisk scripts/local-top/vdisk dm-vdisk.ko dm-snapshot.ko; do
	grep -q "$f\$" "$OUT/initrd.list"
	result $? "the initramfs holds $f"
done

image_md5()
{
	debugfs -R "cat /images/$1" "$OUT/host.ext4" 2>/dev/null | md5sum | cut -d' ' -f1
}

# boot INITRD IMAGE PARAMS: the console goes to $OUT/IMAGE.INITRD.log.
boot()
{
	timeout --foreground -k 10 600 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 \
		-kernel "/boot/vmlinuz-$KVER" -initrd "$OUT/$1.img" \
		-append "console=ttyS0 panic=-1 rw vdisk.root=LABEL=vdhost:/images/$2 $3" \
		-no-reboot -display none -nodefaults -net none -serial "file:$OUT/$2.$1.log" \
		-drive "file=$OUT/host.ext4,if=virtio,format=raw" </dev/null
}

# boots INITRD IMAGE: boot it with a RAM overlay, root on partition 1.
boots()
{
	local log=$OUT/$2.$1.log before line

	before=$(image_md5 "$2")
	boot "$1" "$2" "vdisk.overlay=ram vdisk.partition=1"
	line=$(grep -a 'VDISK-BOOT-OK' "$log" | grep -v 'echo' | tail -n 1)
	result "$([ -n "$line" ]; echo $?)" "$1, $2: the guest booted into the image's init"
	echo "$line" | grep -q 'root=/dev/mapper/vdiskroot '
	result $? "$1, $2: its root is /dev/mapper/vdiskroot"
	echo "$line" | grep -q 'hello=written_by_the_guest'
	result $? "$1, $2: it wrote a file to its root (the RAM overlay)"
	[ -n "$line" ] || tail -n 25 "$log" | sed 's/^/# /'
	result "$([ "$(image_md5 "$2")" = "$before" ]; echo $?)" "$1, $2: the image is unchanged"
}

boots initrd root.vmdk
boots initrd root.qcow2
# A wrong path: a clear message, then the initramfs's panic (here: power off).
boot initrd missing.vmdk ""
grep -aq 'vdisk: /images/missing.vmdk not found on /dev/vda' "$OUT/missing.vmdk.initrd.log"
result $? "a missing image: \"vdisk: /images/missing.vmdk not found on /dev/vda\""

# dracut (Fedora, RHEL, ...): our module in a copy of dracut's modules.
cp -a /usr/lib/dracut "$OUT/dracut"
cp -r packaging/dracut/90vdisk "$OUT/dracut/modules.d/"
VDISK_KO=$PWD/dm-vdisk/dm-vdisk.ko VDISK_BIN=$PWD/tools/vdisk-static \
	dracutbasedir=$PWD/$OUT/dracut dracut --force --no-hostonly --no-hostonly-cmdline \
	-m "bash base udev-rules kernel-modules rootfs-block dm vdisk" \
	--add-drivers "virtio_pci virtio_blk ext4" "$OUT/dracut.img" "$KVER" \
	>"$OUT/dracut.log" 2>&1
result $? "dracut with the vdisk module for $KVER"
boots dracut root.vmdk
tap_end
