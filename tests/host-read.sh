#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host-side check of the decoders and of "vdisk check": read every test image through the core in
# userspace (tests/tools/vdisk-read) and compare with qemu-img's conversion,
# using the same case list as the guest selftests.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
IMAGES=${IMAGES:-tests/out/images}
READ=tests/tools/vdisk-read
VDISK=tools/vdisk

echo "TAP version 13"
while read -r kind name file rest; do
	img=$IMAGES/$file
	case $kind in
	map|win|mapopt|big|mapss|mappart|cache|mem)
		$VDISK check "$img" >/dev/null 2>&1
		result $? "$name: vdisk check finds no errors"
		;;&
	map|mapopt|big|mapss|cache|mem)
		set -- $rest
		opt=
		[ "$kind" = mapopt ] && { opt=$1; shift; }
		[ "$kind" = mapss ] && shift
		got=$($READ $opt "$img" | md5sum | cut -d' ' -f1)
		result "$([ "$got" = "$2" ]; echo $?)" "$name: content matches qemu-img"
		;;
	win|big)
		set -- $rest
		shift
		[ "$kind" = big ] && shift
		for w in "$@"; do
			off=${w%%:*} r=${w#*:}
			got=$($READ "$img" "$off" "${r%%:*}" | md5sum | cut -d' ' -f1)
			result "$([ "$got" = "${r#*:}" ]; echo $?)" "$name: window $off matches qemu-img"
		done
		;;
	eio)
		set -- $rest
		if [ "${4:-}" = intact ]; then
			$VDISK check "$img" >/dev/null 2>&1
			result $? "$name: vdisk check finds no errors"
		else
			$VDISK check "$img" >/dev/null 2>/tmp/vdisk-read.err
			result "$([ $? -eq 2 ] && grep -q "^vdisk: .*: " /tmp/vdisk-read.err; echo $?)" \
				"$name: vdisk check reports the corruption (status 2)"
		fi
		$READ "$img" "$1" "$3" >/dev/null 2>&1
		result $? "$name: intact part reads"
		$READ "$img" "$2" "$3" >/dev/null 2>/tmp/vdisk-read.err
		result "$([ $? -ne 0 ] && grep -q 'I/O error' /tmp/vdisk-read.err; echo $?)" \
			"$name: damaged part fails"
		;;
	info)
		$VDISK info "$img" 2>&1 | grep -Eq "$rest"
		result $? "$name: vdisk info shows $rest"
		;;
	repair)
		# vdisk check --repair writes the log's replay into a copy, which
		# then reads (with qemu-img too) as the dirty image maps.
		set -- $rest
		cp --sparse=always "$img" /tmp/vdisk-repair.vhdx
		$VDISK check --repair /tmp/vdisk-repair.vhdx >/dev/null 2>&1
		result $? "$name: vdisk check --repair"
		$VDISK info /tmp/vdisk-repair.vhdx | grep -q '^log: clean$'
		result $? "$name: the log is gone from the repaired file"
		qemu-img check -q /tmp/vdisk-repair.vhdx >/dev/null 2>&1
		result $? "$name: qemu-img check passes the repaired file"
		got=$(qemu-img convert -O raw /tmp/vdisk-repair.vhdx /tmp/vdisk-repair.raw &&
			md5sum </tmp/vdisk-repair.raw | cut -d' ' -f1)
		result "$([ "$got" = "$2" ]; echo $?)" "$name: qemu-img reads the repaired file right"
		rm -f /tmp/vdisk-repair.vhdx /tmp/vdisk-repair.raw
		;;
	checkcost)
		# Bounded by the file: 60 s and 512 MiB are far more than needed.
		(ulimit -v 524288; timeout 60 $VDISK check "$img") >/dev/null 2>/tmp/vdisk-read.err
		result "$([ $? -eq 2 ] && grep -Eq "$rest" /tmp/vdisk-read.err; echo $?)" \
			"$name: vdisk check reports it (status 2) within 60 s and 512 MiB"
		;;
	resume)
		# The table entry the guest changes under a suspended device,
		# changed in a copy here: both versions read as qemu-img says.
		set -- $rest
		cp "$img" /tmp/vdisk-resume.img
		got=$($READ /tmp/vdisk-resume.img 0 "$3" | md5sum | cut -d' ' -f1)
		result "$([ "$got" = "$4" ]; echo $?)" "$name: reads as qemu-img before the change"
		printf "$2" | dd of=/tmp/vdisk-resume.img bs=1 seek="$1" conv=notrunc 2>/dev/null
		got=$($READ /tmp/vdisk-resume.img 0 "$3" | md5sum | cut -d' ' -f1)
		result "$([ "$got" = "$5" ]; echo $?)" "$name: reads as qemu-img after the change"
		rm -f /tmp/vdisk-resume.img
		;;
	fault)
		$VDISK check "$img" >/dev/null 2>&1
		result $? "$name: vdisk check finds no errors"
		;;
	refuse)
		$VDISK check "$img" >/dev/null 2>/tmp/vdisk-read.err
		result "$([ $? -eq 1 ] && [ "$(wc -l </tmp/vdisk-read.err)" = 1 ]; echo $?)" \
			"$name: vdisk check refuses it in one line"
		;;&
	refuse|refuse-chain|refuse-opt)
		opt=
		[ "$kind" = refuse-opt ] && { opt=${rest%% *}; rest=${rest#* }; }
		$READ $opt "$img" >/dev/null 2>/tmp/vdisk-read.err
		result "$([ $? -ne 0 ] && grep -Eq "$rest" /tmp/vdisk-read.err; echo $?)" \
			"$name: refused ($rest)"
		;;
	esac
done <"$IMAGES/cases.txt"
rm -f /tmp/vdisk-read.err
tap_end
