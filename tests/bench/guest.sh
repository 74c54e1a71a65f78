#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of make bench: set up every device, then measure them in
# interleaved rounds.  Prints "RESULT <device> <workload> <MB/s> <IOPS>" and
# "CPU <device> <workload> <busy ticks> <KiB read>" for each run.
cd /data
. ./params
set -e
# linear NAME FILE: dm-linear over FILE's loop device, set up as vdisk sets
# up its own (read-only, direct I/O), with util-linux's losetup: busybox's
# has no --direct-io.
linear()
{
	lo=$(/usr/sbin/losetup -r --direct-io=on -f --show "$2")
	echo "0 $(blockdev --getsz "$lo") linear $lo 0" | dmsetup create --readonly "$1" >&2
	[ -b "/dev/mapper/$1" ] || dmsetup mknodes "$1"
	echo "/dev/mapper/$1"
}
linear floor disk.raw >/dev/null
# IMAGE:FORMAT of each device; those after "--" have no qemu-nbd run.
# BENCH_IMAGES (in params) measures only those.  The control, ctl.raw (the
# floor's disk again, in its own file), is mapped as the floor is, but
# measured where a dm-vdisk device is: its ratio to the floor is what
# this run reads for a device no slower than the floor, and its ratio to
# qemu-nbd, serving the same raw file, the most any format can read there.
images=${IMAGES:-"ctl.raw:raw disk.vmdk:vmdk disk.qcow2:qcow2 disk.vhdx:vhdx
	disk.vhd:vpc disk.vdi:vdi disk.qed:qed disk.hdd:parallels stream.vmdk:vmdk
	comp.qcow2:qcow2 big.qcow2:qcow2 gen-clean.vhdx:vhdx -- gen-log.vhdx:vhdx"}
vdevs= lins=
for img in $images; do
	[ "$img" = -- ] && continue
	name=v-$(echo "${img%:*}" | tr . -)
	if [ "${img#*:}" = raw ]; then
		lins="$lins /dev/mapper/$name"
		vdevs="$vdevs $(linear "$name" "${img%:*}")"
	else
		vdevs="$vdevs $(vdisk create "$name" "${img%:*}")"
	fi
done
# isvdisk DEV: DEV is a dm-vdisk device (not the floor or a raw image's
# dm-linear, as the control is).
isvdisk()
{
	case " $lins " in *" $1 "*) return 1 ;; esac
	case $1 in /dev/mapper/v-*) return 0 ;; esac
	return 1
}
devs="/dev/mapper/floor $vdevs"
mkdir -p /var/lock	# qemu-nbd -c keeps its socket there
: >/tmp/nbd
i=0
for img in $images; do
	[ "$img" = -- ] && break
	qemu-nbd -r -f "${img#*:}" -c /dev/nbd$i "${img%:*}"
	echo "/dev/nbd$i ${img%:*} ${img#*:} v-$(echo "${img%:*}" | tr . -)" >>/tmp/nbd
	echo "NBD /dev/nbd$i v-$(echo "${img%:*}" | tr . -)"
	devs="$devs /dev/nbd$i"
	i=$((i + 1))
done

# The FUSE peers users pick: libyal's mount tools (Debian's libvmdk-utils,
# libvhdi-utils, libqcow-utils), each for the formats it reads, with the one
# raw file they show read through a loop device, as vdisk reads an image.
fusetool()
{
	case $1 in
	vmdk) echo vmdkmount ;;
	vpc | vhdx) echo vhdimount ;;
	qcow2) echo qcowmount ;;
	esac
}
# fuse_up IMAGE TOOL MNT [LOOP]: mount IMAGE with TOOL on MNT and attach
# its file read-only with direct I/O to LOOP (or a free loop device, printed).
# Direct I/O keeps the FUSE file out of the guest's page cache, which would
# make warm runs read RAM; O_DIRECT on a FUSE file goes to the daemon.
fuse_up()
{
	mkdir -p "$3"
	"$2" "$1" "$3" >/dev/null 2>&1 || return 1
	if [ -n "${4:-}" ]; then
		/usr/sbin/losetup -r --direct-io=on "$4" "$3/$(ls "$3" | head -n 1)"
	else
		/usr/sbin/losetup -r --direct-io=on -f --show "$3/$(ls "$3" | head -n 1)"
	fi
}
# fuse_down LOOP MNT: detach, unmount (the daemon exits with it).
fuse_down()
{
	/usr/sbin/losetup -d "$1"
	for t in 1 2 3 4 5; do
		umount "$2" 2>/dev/null && return 0
		sleep 1
	done
	echo "fuse_down: cannot unmount $2" >&2
	return 1
}
# Loop devices the kernel would not give direct I/O: their runs start with
# dropped caches instead (what remains cached within a run is counted).
nodio=
: >/tmp/fuse
for img in $images; do
	[ "$img" = -- ] && break	# the dirty VHDX: libvhdi ignores the log
	tool=$(fusetool "${img#*:}")
	[ -n "$tool" ] || continue
	name=$(echo "${img%:*}" | tr . -)
	if ! l=$(fuse_up "${img%:*}" "$tool" "/mnt/f-$name"); then
		echo "# $tool cannot read ${img%:*}: no FUSE run"
		continue
	fi
	dio=$(cat "/sys/block/${l#/dev/}/loop/dio")
	[ "$dio" = 1 ] || nodio="$nodio $l"
	echo "$l ${img%:*} $tool /mnt/f-$name v-$name" >>/tmp/fuse
	echo "FUSE $l v-$name $tool $dio"
	devs="$devs $l"
done
sleep 1
set +e

# Whole-guest busy CPU ticks (USER_HZ) over all CPUs: user, nice, system,
# irq and softirq, all but idle and iowait.  The work of a read happens in
# kworkers, qemu-nbd and FUSE daemons as much as in fio.
busy()
{
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat
}

# fio_start DEV RW BS DEPTH [ARGS]: start a fio run of DEV in the
# background, and return once DEV has served its first reads: fio's start
# (a good part of a second of one CPU under TCG, for every device alike)
# is not measured.  WIN is how long the measurement then lasts: half a
# second less than the run, which leaves its end out too.
# sectors: what the device fio_start found has read, in sectors.
sectors()
{
	awk '{ print $3 }' "$st"
}

fio_start()
{
	# By number: /dev/mapper's nodes here are no links to dm-N.
	mm=$(stat -L -c '%t %T' "$1") &&
		st=/sys/dev/block/$((0x${mm% *})):$((0x${mm#* }))/stat &&
		[ -r "$st" ] || { echo "# no statistics for $1" >&2; return 1; }
	r0=$(sectors)
	fdev=$1 rw=$2 bs=$3 qd=$4
	shift 4
	fio --name=b --filename="$fdev" --readonly --direct=1 --ioengine=libaio \
		--rw="$rw" --bs="$bs" --iodepth="$qd" --time_based \
		--runtime="$SECS" "$@" >/tmp/fio.out 2>/dev/null &
	fio=$!
	tries=0
	while [ "$(sectors)" = "$r0" ] && [ $tries -lt 400 ]; do
		sleep 0.05
		tries=$((tries + 1))
	done
}
WIN=$(awk -v s="$SECS" 'BEGIN { print (s > 1 ? s - 0.5 : s / 2) }')

# run DEV RW BS DEPTH LOAD: one fio run; prints RESULT (fio's MB/s, IOPS)
# and CPU (busy ticks, and KiB the device read, both over WIN).
run()
{
	case " $nodio " in *" $1 "*) echo 3 >/proc/sys/vm/drop_caches ;; esac
	fio_start "$1" "$2" "$3" "$4" --output-format=terse --terse-version=3 ||
		return
	c0=$(busy)
	k0=$(sectors)
	sleep "$WIN"
	c1=$(busy)
	k1=$(sectors)
	wait "$fio"
	awk -F';' -v d="$1" -v w="$5" -v c=$((c1 - c0)) -v k=$(((k1 - k0) / 2)) '
		NF > 8 {
		printf "RESULT %s %s %.1f %d\n", d, w, $7 / 1024, $8
		printf "CPU %s %s %d %d\n", d, w, c, k }' /tmp/fio.out
}

# The guest's own inflate rate for the disk's data, cut into 64 KiB units
# and compressed as the stream VMDK (zlib) and the QCOW2 -c (deflate) hold
# it, on every CPU: the limit for any reader of those images.  Measured
# before the warm runs and after the cold ones (report.py takes the mean).
inflate_rate()
{
	for k in zlib deflate; do
		./inflate-rate disk.raw 65536 "$k" "$SECS" "$(nproc)"
	done
	# And the floor's random 64 KiB reads: a random reader of compressed
	# data reads up to a unit's worth for each read.
	run /dev/mapper/floor randread 64k 32 rand-64k-qd32
}
inflate_rate

# Warm: read every device once, so metadata is cached.
for d in $devs; do dd if="$d" of=/dev/null bs=1M 2>/dev/null; done
# What each target keeps for itself (the INFO status' last field).
for d in $devs; do
	isvdisk "$d" || continue
	echo "MEM ${d#/dev/mapper/} target_bytes $(dmsetup status "${d#/dev/mapper/}" | awk '{ print $9 }')"
done
# Each vdisk device runs between two runs of the floor and just before
# qemu-nbd reading the same image, then its FUSE peer: ratios compare runs
# seconds apart, as TCG's speed drifts by tens of percent within a minute.
order=/dev/mapper/floor
for v in $vdevs; do
	nbd=$(awk -v v="${v#/dev/mapper/}" '$4 == v { print $1 }' /tmp/nbd)
	fuse=$(awk -v v="${v#/dev/mapper/}" '$5 == v { print $1 }' /tmp/fuse)
	order="$order $v $nbd $fuse /dev/mapper/floor"
done
for r in $(seq 1 "$ROUNDS"); do
	for load in "read 1M 8 seq-1M-qd8" "randread 4k 32 rand-4k-qd32" \
		"randread 4k 1 rand-4k-qd1"; do
		for d in $order; do run "$d" $load; done
	done
done

# cold DEV: drop what DEV's reader caches (a table reload empties dm-vdisk's
# cache; qemu-nbd is restarted, a FUSE file system remounted), then the
# guest's caches.
cold()
{
	case $1 in
	/dev/mapper/v-*)
		dmsetup table "${1#/dev/mapper/}" >/tmp/t
		dmsetup reload --readonly "${1#/dev/mapper/}" /tmp/t &&
			dmsetup resume "${1#/dev/mapper/}"
		;;
	/dev/nbd*)
		set -- $(grep "^$1 " /tmp/nbd)
		qemu-nbd -d "$1" >/dev/null
		qemu-nbd -r -f "$3" -c "$1" "$2"
		;;
	/dev/loop*)
		# A FUSE peer: remounted, so the daemon starts with empty caches.
		set -- $(grep "^$1 " /tmp/fuse)
		[ $# -eq 5 ] && fuse_down "$1" "$4" && fuse_up "$2" "$3" "$4" "$1"
		;;
	esac
	echo 3 >/proc/sys/vm/drop_caches
	sleep 1
}

for r in $(seq 1 "$ROUNDS"); do
	for d in $order; do
		cold "$d"
		run "$d" randread 4k 32 cold-rand-4k-qd32
		cold "$d"
		run "$d" read 1M 8 cold-seq-1M-qd8
	done
done
inflate_rate
# BENCH_PERF=1: where the guest's CPU time goes while the floor and each
# dm-vdisk device are read cold, sequentially and at random (perf's
# cpu-clock: TCG has no PMU): the share of idle time, and the symbols
# that took most of the rest, once fio reads.
if [ -n "${PERF:-}" ]; then
	for d in $order; do
		[ "$d" = /dev/mapper/floor ] || isvdisk "$d" || continue
		case " ${seen:-} " in *" $d "*) continue ;; esac
		seen="${seen:-} $d"
		for load in "read 1M 8 cold-seq-1M-qd8" "randread 4k 32 cold-rand-4k-qd32"; do
			set -- $load
			cold "$d"
			# perf takes a while to start: fio runs on until it is done.
			fio_start "$d" "$1" "$2" "$3" --runtime=600 || continue
			# /proc/stat's CPU times, once perf samples.
			perf record -q -e cpu-clock -a -o /tmp/perf.data -- sh -c \
				"head -1 /proc/stat >/tmp/s0; sleep $WIN
				head -1 /proc/stat >/tmp/s1" 2>/dev/null
			kill "$fio"
			wait "$fio"
			stat=$(cat /tmp/s0 /tmp/s1 | awk '{
				for (i = 2; i <= NF; i++) t[NR] += $i
				idle[NR] = $5 + $6 }
				END { print 100 * (idle[2] - idle[1]) / (t[2] - t[1]) }')
			# The idle share, by /proc/stat and by perf's samples
			# (a check on each other), then the busy samples' top
			# symbols.
			perf report -q -i /tmp/perf.data --stdio --sort dso,sym \
				--percent-limit 0.5 2>/dev/null |
				awk -v d="$d" -v l="$4" -v st="$stat" '
				$NF ~ /^(native_safe_halt|default_idle|poll_idle|acpi_idle)/ {
					idle += $1; next }
				NF >= 4 && n < 14 { p[++n] = $1; s[n] = $2 " " $NF }
				END {
					printf "PERF %s %s idle %.1f%% (perf: %.1f%%)\n",
						d, l, st, idle
					for (i = 1; i <= n; i++)
						printf "PERF %s %s %.1f%% of busy %s\n", d, l,
							100 * p[i] / (100 - idle), s[i]
				}'
			rm -f /tmp/perf.data
		done
	done
fi
# For the record: hits, misses, deferred bios, errors, memory.
for d in $devs; do
	isvdisk "$d" && echo "STATUS ${d#/dev/mapper/} $(dmsetup status "${d#/dev/mapper/}")"
done

# Memory: dm-bufio's cache and the target's own memory with sparse images
# of two sizes, after reading the 64 places bench.sh wrote.
for d in $devs; do
	isvdisk "$d" && vdisk remove "${d#/dev/mapper/}"
done
echo "MEM module cache_mb $(cat /sys/module/dm_vdisk/parameters/cache_mb)"
for g in 1 64; do
	dev=$(vdisk create m$g sparse$g.qcow2)
	before=$(cat /sys/module/dm_bufio/parameters/current_allocated_bytes)
	for i in $(seq 0 63); do
		dd if="$dev" of=/dev/null bs=64k count=1 skip=$((i * g * 256)) iflag=direct 2>/dev/null
	done
	after=$(cat /sys/module/dm_bufio/parameters/current_allocated_bytes)
	echo "MEM sparse-${g}G bufio_bytes $((after - before)) target_bytes $(dmsetup status m$g | awk '{ print $9 }')"
	vdisk remove m$g
done
