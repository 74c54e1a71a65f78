#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test guest under TCG with DATADIR as its data disk, print what
# /data/run printed, and exit with its status (124: timeout, 125: the guest
# never ran it).
#
# usage: run-guest.sh [--timeout SEC] [--mem MB] [--disk FILE]...
#                     INITRAMFS DATADIR OUTDIR
# The kernel console goes to OUTDIR/console.log, /data/run's output to
# OUTDIR/output.log.  GUEST_KERNEL is the kernel to boot (default
# /boot/vmlinuz-$KVER, KVER as build-initramfs.sh chooses it).
set -eu
timeout=1200 mem=1024 disks=()
while [ $# -gt 3 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--disk) disks+=(-drive "file=$2,if=virtio,format=raw"); shift 2 ;;
	*) echo "run-guest: unknown option $1" >&2; exit 2 ;;
	esac
done
initrd=$1 data=$2 out=$3
if [ -z "${GUEST_KERNEL:-}" ]; then
	if [ -n "${GUEST_MODULES:-}" ]; then
		: "${KVER:=$(basename "$GUEST_MODULES")}"
	fi
	: "${KVER:=$(ls -d /lib/modules/*/kernel/drivers/md/dm-mod.ko 2>/dev/null |
		sort -V | tail -n 1 | cut -d/ -f4)}"
	GUEST_KERNEL=/boot/vmlinuz-$KVER
fi
cp "$(dirname "$0")/ksft.sh" "$data/ksft.sh"
mkdir -p "$out"

# A sparse ext4 image holding DATADIR, sized from its apparent size.
mb=$(( $(du -s --apparent-size --block-size=1M "$data" | cut -f1) * 5 / 4 + 64 ))
rm -f "$out/data.ext4"
mkfs.ext4 -q -F -O ^has_journal -d "$data" "$out/data.ext4" "${mb}M"

: >"$out/output.log"
status=0
# no_timer_check: see boot() in tests/boot.sh.
timeout --foreground -k 10 "$timeout" \
	qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "$mem" \
	-kernel "$GUEST_KERNEL" -initrd "$initrd" \
	-append "console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check ${GUEST_APPEND:-}" \
	-no-reboot -display none -nodefaults -net none \
	-serial "file:$out/console.log" -serial "file:$out/output.log" \
	-drive "file=$out/data.ext4,if=virtio,format=raw" "${disks[@]}" \
	</dev/null || status=$?
rm -f "$out/data.ext4"

grep -v '^GUEST-EXIT: ' "$out/output.log" || true
if [ "$status" -eq 124 ]; then
	echo "# run-guest: timed out after ${timeout}s"
else
	status=$(sed -n 's/^GUEST-EXIT: \([0-9]*\).*/\1/p' "$out/output.log" | tail -n 1)
	status=${status:-125}
fi
if [ "$status" -ne 0 ]; then
	echo "# run-guest: guest status $status; end of the kernel console:"
	tail -n 40 "$out/console.log" | sed 's/^/#   /'
fi
exit "$status"
