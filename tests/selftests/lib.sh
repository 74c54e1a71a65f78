# SPDX-License-Identifier: GPL-2.0
# Helpers for the dm-vdisk guest selftests (busybox sh).  Sourced after
# ksft.sh; tests run in the guest with the images in $IMAGES.

VDISK=/usr/sbin/vdisk

# dm devices and bound loop devices: what a test must not leave behind.
leftovers()
{
	dmsetup ls 2>/dev/null | grep -v '^No devices found' | cut -f1
	for f in /sys/block/loop*/loop/backing_file; do
		[ -e "$f" ] && echo "loop: $(cat "$f")"
	done
}

check_clean()
{
	left=$(leftovers)
	if [ -z "$left" ]; then
		ktap_ok "$1: nothing left mapped or attached"
	else
		ktap_fail "$1: nothing left mapped or attached"
		ktap_diag "left: $(echo $left)"
		# Clean up so later tests start from nothing.
		for d in $(dmsetup ls 2>/dev/null | cut -f1); do
			dmsetup remove --force "$d" >/dev/null 2>&1
		done
		for f in /sys/block/loop*/loop/backing_file; do
			[ -e "$f" ] || continue
			f=${f#/sys/block/}
			losetup -d "/dev/${f%%/*}" >/dev/null 2>&1
		done
	fi
}

# md5 of LEN bytes at OFF of DEV (both multiples of BS).
md5_range()
{
	dd if="$1" bs="$4" skip=$(($2 / $4)) count=$(($3 / $4)) 2>/dev/null |
		md5sum | cut -d' ' -f1
}

md5_dev()
{
	dd if="$1" bs=1M 2>/dev/null | md5sum | cut -d' ' -f1
}

# vdisk_status NAME FIELD: a counter of the vdisk targets' INFO status,
# summed over the device's vdisk segments (5: hits, 6: misses,
# 7: deferred, 8: errors).
vdisk_status()
{
	dmsetup status "$1" 2>/dev/null |
		awk -v f="$2" '$3 == "vdisk" { n += $f } END { print n + 0 }'
}

# Map IMAGE as NAME (with an optional create option), or fail the test.
map_image()
{
	out=$($VDISK create "$1" "$2" $3 2>/tmp/err)
	if [ $? -eq 0 ] && [ "$out" = "/dev/mapper/$1" ] && [ -b "$out" ]; then
		return 0
	fi
	ktap_fail "$1: vdisk create $2"
	ktap_diag "stdout: $out stderr: $(cat /tmp/err)"
	return 1
}

unmap_image()
{
	if $VDISK remove "$1" 2>/tmp/err; then
		ktap_ok "$1: vdisk remove"
	else
		ktap_fail "$1: vdisk remove"
		ktap_diag "$(cat /tmp/err)"
	fi
	check_clean "$1"
}

# Refusal: non-zero exit, one stderr line naming the file (or one of its
# extent files, which start with its name), matching REGEX.
expect_refusal()
{
	name=$1 file=$2 regex=$3
	shift 3
	if $VDISK create "$name" "$file" $@ >/tmp/out 2>/tmp/err; then
		ktap_fail "$name: refused"
		$VDISK remove "$name" >/dev/null 2>&1
	elif [ "$(wc -l </tmp/err)" -eq 1 ] &&
	     grep -q "$(basename "${file%.*}")" /tmp/err && grep -Eq "$regex" /tmp/err; then
		ktap_ok "$name: refused: $(cat /tmp/err)"
	else
		ktap_fail "$name: refused with one line matching $regex"
		ktap_diag "stderr: $(cat /tmp/err)"
	fi
	check_clean "$name"
}
