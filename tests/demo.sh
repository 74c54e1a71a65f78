#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make demo: put a small ext4 file system in a VMDK on the host, boot
# Debian's kernel in QEMU with dm-vdisk, map the VMDK, mount it read-only
# and show a file from it.
set -eu
cd "$(dirname "$0")/.."
OUT=tests/out/demo
rm -rf "$OUT"
mkdir -p "$OUT/fs/etc" "$OUT/data"

echo "Hello from inside a VMDK, mapped by dm-vdisk." >"$OUT/fs/hello.txt"
echo "demo" >"$OUT/fs/etc/hostname"
mkfs.ext4 -q -F -L vdisk-demo -d "$OUT/fs" "$OUT/fs.raw" 16M
qemu-img convert -f raw -O vmdk "$OUT/fs.raw" "$OUT/data/demo.vmdk"
rm "$OUT/fs.raw"

cat >"$OUT/data/run" <<'GUEST'
#!/bin/sh
set -e
echo "guest: kernel $(uname -r), $(vdisk --version)"
echo "guest: \$ vdisk info demo.vmdk"
vdisk info /data/demo.vmdk | sed 's/^/guest:   /'
echo "guest: \$ vdisk create demo /data/demo.vmdk"
dev=$(vdisk create demo /data/demo.vmdk)
echo "guest:   $dev"
echo "guest: \$ dmsetup table demo; dmsetup status demo"
dmsetup table demo | sed 's/^/guest:   /'
mkdir -p /mnt/demo
mount -t ext4 -o ro "$dev" /mnt/demo
echo "guest: \$ ls /mnt/demo; cat /mnt/demo/hello.txt"
ls /mnt/demo | sed 's/^/guest:   /'
sed 's/^/guest:   /' /mnt/demo/hello.txt
dmsetup status demo | sed 's/^/guest:   /'
umount /mnt/demo
vdisk remove demo
echo "guest: removed; dm devices left: $(dmsetup ls | grep -vc 'No devices found' || true)"
GUEST
chmod +x "$OUT/data/run"

export VDISK_KO=dm-vdisk/dm-vdisk.ko VDISK_BIN=tools/vdisk-static
tests/vm/build-initramfs.sh "$OUT/initramfs.cpio.gz"
echo "Booting a QEMU guest (TCG, no KVM; about half a minute)..."
if tests/vm/run-guest.sh --timeout 300 "$OUT/initramfs.cpio.gz" "$OUT/data" "$OUT/run" |
	tee "$OUT/output.txt" && grep -q "Hello from inside a VMDK" "$OUT/output.txt"; then
	echo "demo: OK: the guest read the file from the VMDK through dm-vdisk"
else
	echo "demo: FAILED (see $OUT/run/console.log)" >&2
	exit 1
fi
