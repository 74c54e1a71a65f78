# SPDX-License-Identifier: GPL-2.0
# Guest selftests: the images tests/lib/mkimages.py made on the host (see
# its case list), each compared with qemu-img's reading of it; damaged
# images refused or failing with EIO; then the CLI and dmsetup paths.

# case_map NAME FILE BYTES MD5 [OPTION [LOGICAL_SECTOR_SIZE]]
case_map()
{
	name=t-$1 file=$IMAGES/$2 bytes=$3 want=$4 ss=${6:-512}
	map_image "$name" "$file" $5 || { check_clean "$name"; return; }
	dev=/dev/mapper/$name
	ktap_result "$([ "$(blockdev --getsize64 "$dev")" = "$bytes" ]; echo $?)" \
		"$name: size is $bytes"
	ktap_result "$([ "$(blockdev --getss "$dev")" = "$ss" ]; echo $?)" \
		"$name: logical sectors of $ss bytes"
	got=$(md5_dev "$dev")
	ktap_result "$([ "$got" = "$want" ]; echo $?)" "$name: content matches qemu-img ($want)"
	[ "$got" = "$want" ] || ktap_diag "got $got"
	ktap_result "$([ "$(vdisk_status "$name" 8)" = 0 ]; echo $?)" "$name: no errors in status"
	unmap_image "$name"
}

case_win()
{
	name=t-$1 file=$IMAGES/$2 bytes=$3
	shift 3
	map_image "$name" "$file" || { check_clean "$name"; return; }
	dev=/dev/mapper/$name
	ktap_result "$([ "$(blockdev --getsize64 "$dev")" = "$bytes" ]; echo $?)" \
		"$name: size is $bytes"
	for w in "$@"; do
		off=${w%%:*} rest=${w#*:}
		len=${rest%%:*} want=${rest#*:}
		got=$(md5_range "$dev" "$off" "$len" 65536)
		ktap_result "$([ "$got" = "$want" ]; echo $?)" "$name: window $off+$len matches qemu-img"
	done
	unmap_image "$name"
}

case_eio()
{
	name=t-$1 file=$IMAGES/$2 good=$3 bad=$4 len=$5 intact=${6:-}
	map_image "$name" "$file" || { check_clean "$name"; return; }
	dev=/dev/mapper/$name
	dd if="$dev" of=/dev/null bs="$len" skip=$((good / len)) count=1 iflag=direct 2>/dev/null
	ktap_result $? "$name: intact part reads"
	if dd if="$dev" of=/dev/null bs="$len" skip=$((bad / len)) count=1 iflag=direct 2>/tmp/err; then
		ktap_fail "$name: damaged part fails with EIO"
	else
		ktap_result "$(grep -Eq 'I/O error|Input/output error' /tmp/err; echo $?)" \
			"$name: damaged part fails with EIO"
	fi
	# A NOACCESS extent is an error target by design, not a vdisk error.
	[ -n "$intact" ] ||
		ktap_result "$([ "$(vdisk_status "$name" 8)" -gt 0 ]; echo $?)" \
			"$name: errors counted in status"
	unmap_image "$name"
}

# case_cache NAME FILE BYTES MD5: mapped with the module's cache_mb=1 the
# disk reads right and dm-bufio holds at most 1 MiB (its tables take 4);
# with the default it holds more, so the limit is what kept it down.
case_cache()
{
	name=t-$1 file=$IMAGES/$2 want=$4
	param=/sys/module/dm_vdisk/parameters/cache_mb
	held=/sys/module/dm_bufio/parameters/current_allocated_bytes
	[ -e $param ] || modprobe dm_vdisk
	def=$(cat $param)
	for mb in 1 "$def"; do
		echo "$mb" >$param
		map_image "$name" "$file" || { check_clean "$name"; break; }
		got=$(md5_dev "/dev/mapper/$name")
		n=$(cat $held)
		ktap_result "$([ "$got" = "$want" ]; echo $?)" \
			"$name: content matches qemu-img with cache_mb=$mb"
		if [ "$mb" = 1 ]; then
			ktap_result "$([ "$n" -le $((1 << 20)) ]; echo $?)" \
				"$name: dm-bufio holds $n bytes, at most cache_mb"
		else
			ktap_result "$([ "$n" -gt $((1 << 20)) ]; echo $?)" \
				"$name: dm-bufio holds $n bytes with cache_mb=$mb"
		fi
		unmap_image "$name"
	done
	echo "$def" >$param
}

# case_parts NAME FILE N:BYTES:MD5...: every partition as NAMEpN and no
# other, over a RAM overlay too (writable there); --no-partitions maps
# none; a partition is not removed on its own; list shows them.
case_parts()
{
	name=t-$1 file=$IMAGES/$2
	shift 2
	first=${name}p${1%%:*}
	for how in plain overlay; do
		opt=
		[ $how = overlay ] && opt="--overlay ram"
		map_image "$name" "$file" "$opt" || { check_clean "$name"; continue; }
		nparts=$(ls /dev/mapper | grep -c "^${name}p[0-9]*\$")
		ktap_result "$([ "$nparts" = $# ]; echo $?)" \
			"$name ($how): $# partitions mapped ($nparts)"
		for p in "$@"; do
			n=${p%%:*} rest=${p#*:}
			dev=/dev/mapper/${name}p$n
			ktap_result "$([ -b "$dev" ] && [ "$(blockdev --getsize64 "$dev")" = "${rest%%:*}" ] &&
				[ "$(md5_dev "$dev")" = "${rest#*:}" ]; echo $?)" \
				"$name ($how): partition $n is ${rest%%:*} bytes and reads as qemu reads it"
		done
		if [ $how = overlay ]; then
			ktap_result "$([ "$(blockdev --getro "/dev/mapper/$first")" = 0 ]; echo $?)" \
				"$name: partitions over an overlay are writable"
			echo hello | dd of="/dev/mapper/$first" bs=512 count=1 conv=sync,notrunc \
				oflag=direct 2>/dev/null
			ktap_result "$(dd if="/dev/mapper/$first" bs=512 count=1 iflag=direct 2>/dev/null |
				head -c 5 | grep -q hello; echo $?)" "$name: a write to a partition reads back"
		else
			$VDISK remove "$first" 2>/tmp/err
			ktap_result "$([ $? -ne 0 ] && grep -q "a partition of $name" /tmp/err; echo $?)" \
				"$name: a partition is not removed on its own"
			$VDISK list --json >/tmp/list
			ktap_result "$(grep -q "\"name\":\"$name\",.*\"partitions\":\[\"$first\"" /tmp/list; echo $?)" \
				"$name: list shows the disk with its partitions"
		fi
		unmap_image "$name"
	done
	map_image "$name" "$file" --no-partitions || { check_clean "$name"; return; }
	ktap_result "$(! ls /dev/mapper | grep -q "^${name}p"; echo $?)" \
		"$name: --no-partitions maps none"
	unmap_image "$name"
}

# case_mem NAME FILE BYTES MD5 MAX: like map, and once the whole disk was
# read the target holds at most MAX bytes (vdisk info's memory_bytes).
case_mem()
{
	name=t-$1 file=$IMAGES/$2 want=$4 max=$5
	map_image "$name" "$file" || { check_clean "$name"; return; }
	got=$(md5_dev "/dev/mapper/$name")
	ktap_result "$([ "$got" = "$want" ]; echo $?)" "$name: content matches qemu-img ($want)"
	mem=$($VDISK info "$name" | sed -n 's/^memory_bytes: //p')
	ktap_result "$([ -n "$mem" ] && [ "$mem" -le "$max" ]; echo $?)" \
		"$name: the target holds ${mem:-?} bytes, at most $max"
	ktap_result "$([ "$(vdisk_status "$name" 8)" = 0 ]; echo $?)" "$name: no errors in status"
	unmap_image "$name"
}

# read_direct DEV LEN: md5 of the first LEN bytes, past the page cache.
read_direct()
{
	dd if="$1" bs=65536 count=$(($2 / 65536)) iflag=direct 2>/dev/null |
		md5sum | cut -d' ' -f1
}

# case_resume NAME FILE OFF BYTES LEN MD5 MD5AFTER: a copy of the image
# mapped (the data disk is read-only), read, suspended, BYTES written at
# OFF (a table entry the target has cached), resumed: the device reads
# the new mapping, as the target emptied its caches when suspended.
case_resume()
{
	name=t-$1 file=$IMAGES/$2 off=$3 bytes=$4 len=$5 want=$6 after=$7
	copy=/tmp/resume.img
	cp "$file" $copy
	map_image "$name" $copy || { rm -f $copy; check_clean "$name"; return; }
	dev=/dev/mapper/$name
	got=$(read_direct "$dev" "$len")
	ktap_result "$([ "$got" = "$want" ]; echo $?)" "$name: reads as qemu-img before"
	dmsetup suspend "$name"
	ktap_result $? "$name: suspend"
	# The loop device may use direct I/O: the change must reach the file
	# itself, not only its page cache (on tmpfs they are one).
	printf "$bytes" | dd of=$copy bs=1 seek="$off" conv=notrunc,fsync 2>/dev/null
	sync
	echo 3 >/proc/sys/vm/drop_caches
	dmsetup resume "$name"
	ktap_result $? "$name: resume"
	got=$(read_direct "$dev" "$len")
	ktap_result "$([ "$got" = "$after" ]; echo $?)" \
		"$name: after suspend, a table entry changed in the image and resume, the new mapping reads"
	[ "$got" = "$after" ] || ktap_diag "got $got"
	unmap_image "$name"
	rm -f $copy
}

# fault_dev TABLE: the image's loop device seen through TABLE as "flt".
fault_dev()
{
	printf "$1" | dmsetup create --readonly flt && { [ -b /dev/mapper/flt ] ||
		dmsetup mknodes flt; }
}

read4k()
{
	dd if="$1" of=/dev/null bs=4096 skip=$(($2 / 4096)) count=1 iflag=direct 2>/tmp/err
}

# error_table START LEN: the loop device with LEN sectors at START failing.
error_table()
{
	printf '%s' "0 $1 linear $loop 0\n$1 $2 error\n"
	printf '%s' "$(($1 + $2)) $((sz - $1 - $2)) linear $loop $(($1 + $2))\n"
}

# with_fault TABLE TEST WHAT: map the image through TABLE, run TEST on the
# mapped device, then remove both.
with_fault()
{
	fault_dev "$1" || { ktap_fail "$name: dmsetup create ($3)"; return; }
	if map_image "$name" /dev/mapper/flt; then
		"$2" /dev/mapper/"$name"
		$VDISK remove "$name"
		ktap_result $? "$name: remove $3"
	fi
	dmsetup remove flt
}

fault_data()
{
	ktap_result "$([ "$(md5_range "$1" "$good" 1048576 65536)" = "$want" ]; echo $?)" \
		"$name: data error elsewhere: the rest reads right"
	read4k "$1" "$bad"
	ktap_result "$([ $? -ne 0 ] && grep -Eq 'I/O error|Input/output' /tmp/err; echo $?)" \
		"$name: data read error reaches the reader as EIO"
}

fault_table()
{
	read4k "$1" "$good"
	ktap_result "$([ $? -ne 0 ] && grep -Eq 'I/O error|Input/output' /tmp/err; echo $?)" \
		"$name: table block read error fails the read with EIO"
	ktap_result "$([ "$(vdisk_status "$name" 8)" -gt 0 ]; echo $?)" \
		"$name: table read errors counted in status"
}

fault_slow()
{
	ktap_result "$([ "$(md5_range "$1" "$good" 1048576 65536)" = "$want" ]; echo $?)" \
		"$name: slow device (dm-delay 100 ms): reads right"
}

# Up 1 s, down 1 s: reads fail while it is down, work while it is up.
fault_flaky()
{
	ok=0 failed=0 i=0
	while [ $i -lt 40 ]; do
		if read4k "$1" $((i % 16 * 65536)); then
			ok=$((ok + 1))
		else
			failed=$((failed + 1))
		fi
		usleep 100000
		i=$((i + 1))
	done
	ktap_result "$([ $ok -gt 0 ] && [ $failed -gt 0 ]; echo $?)" \
		"$name: flaky device: $ok reads worked, $failed failed, none hung"
}

# Faults under an image: read errors in data and in a table block
# (dm-error), a slow device (dm-delay), a flaky one (dm-flakey).  Errors
# must reach the reader as EIO, the rest of the disk must read, nothing
# may hang, and removal must work.
case_fault()
{
	name=t-$1 file=$IMAGES/$2 data=$(($3 / 512)) bat=$4 good=$5 bad=$6
	loop=$(losetup -f)
	losetup -r "$loop" "$file" || { ktap_fail "$name: losetup"; return; }
	sz=$(blockdev --getsz "$loop")
	map_image "$name" "$loop" || { losetup -d "$loop"; return; }
	want=$(md5_range /dev/mapper/"$name" "$good" 1048576 65536)
	$VDISK remove "$name"

	with_fault "$(error_table "$data" 2048)" fault_data "after data errors"
	[ "$bat" = - ] ||
		with_fault "$(error_table $((bat / 512)) 8)" fault_table "after table errors"
	with_fault "0 $sz delay $loop 0 100\n" fault_slow "over a slow device"
	with_fault "0 $sz flakey $loop 0 1 1\n" fault_flaky "over a flaky device"
	losetup -d "$loop"
	check_clean "$name"
}

# Table from "vdisk table" on a loop device, loaded with plain dmsetup.
cli_dmsetup()
{
	file=$IMAGES/$1 want=$2
	loop=$(losetup -f)
	losetup -r "$loop" "$file" || { ktap_fail "dmsetup: losetup"; return; }
	table=$($VDISK table "$loop")
	ktap_result $? "dmsetup: vdisk table $loop: $table"
	if dmsetup create t-rw --table "$table" 2>/dev/null; then
		ktap_fail "dmsetup: writable table refused"
		dmsetup remove t-rw
	else
		ktap_ok "dmsetup: writable table refused"
	fi
	# Options the target does not know, or gives no value or twice, and
	# words after them are refused, saying which.
	for bad in "0 extra:Unexpected words" "2 bogus 1:Unknown optional" \
		   "1 parent:without its value" \
		   "4 snapshot 0 snapshot 0:Snapshot given twice"; do
		if dmsetup create --readonly t-bad --table "$table ${bad%%:*}" 2>/dev/null; then
			ktap_fail "dmsetup: table ending '${bad%%:*}' refused"
			dmsetup remove t-bad
		else
			ktap_result "$(dmesg | tail -n 5 | grep -q "vdisk: .*${bad#*:}"; echo $?)" \
				"dmsetup: table ending '${bad%%:*}' refused: ${bad#*:}"
		fi
	done
	dmsetup create --readonly t-tbl --table "$table"
	ktap_result $? "dmsetup: create --readonly"
	[ -b /dev/mapper/t-tbl ] || dmsetup mknodes t-tbl
	ktap_result "$([ "$(md5_dev /dev/mapper/t-tbl)" = "$want" ]; echo $?)" \
		"dmsetup: content matches qemu-img"
	# The kernel refuses writes to a read-only disk (EPERM from write(2)).
	if dd if=/dev/zero of=/dev/mapper/t-tbl bs=4096 count=1 conv=notrunc 2>/tmp/err; then
		ktap_fail "dmsetup: writes refused"
	else
		ktap_result "$(grep -Eq 'Operation not permitted|Read-only' /tmp/err; echo $?)" \
			"dmsetup: writes refused: $(head -n 1 /tmp/err)"
	fi
	ktap_result "$([ "$(blockdev --getro /dev/mapper/t-tbl)" = 1 ]; echo $?)" \
		"dmsetup: device is read-only"
	ktap_result "$(dmsetup table t-tbl | grep -q " vdisk $(echo "$table" | cut -d' ' -f4-)\$"; echo $?)" \
		"dmsetup: table status line round-trips"
	dmsetup remove t-tbl
	ktap_result $? "dmsetup: remove"
	losetup -d "$loop"
	check_clean "dmsetup"
}

# An image that is already a block device is used as it is, and remove
# leaves the user's loop device alone.
cli_blockdev()
{
	file=$IMAGES/$1 want=$2
	loop=$(losetup -f)
	losetup -r "$loop" "$file" || { ktap_fail "blockdev: losetup"; return; }
	if map_image t-blk "$loop"; then
		ktap_result "$([ "$(md5_dev /dev/mapper/t-blk)" = "$want" ]; echo $?)" \
			"blockdev: content matches qemu-img"
		ktap_result "$(dmsetup table t-blk |
			grep -q " vdisk $(cat "/sys/block/${loop#/dev/}/dev") "; echo $?)" \
			"blockdev: table uses the device itself"
		# Held open: remove must refuse and keep everything.
		exec 4</dev/mapper/t-blk
		$VDISK remove t-blk 2>/tmp/err
		ktap_result "$([ $? -ne 0 ] && grep -q 'in use' /tmp/err; echo $?)" \
			"blockdev: remove of an open device refused"
		exec 4<&-
		$VDISK remove t-blk
		ktap_result $? "blockdev: remove once closed"
	fi
	ktap_result "$([ -e "/sys/block/${loop#/dev/}/loop/backing_file" ]; echo $?)" \
		"blockdev: the user's loop device stays attached"
	losetup -d "$loop"
	check_clean "blockdev"
}

# Readers keep reading while the table is suspended, resumed and reloaded
# (a reload builds a new target with a cold cache): every read is right.
# They read with O_DIRECT, so each read reaches the target rather than the
# page cache: whole-disk streams, and windows read in changing order whose
# contents were taken while nothing else ran.  Then a deferred remove while
# a reader holds the device: it goes once the reader is done.
cli_concurrency()
{
	file=$IMAGES/$1 want=$2
	map_image t-conc "$file" || { check_clean t-conc; return; }
	dev=/dev/mapper/t-conc
	table=$(dmsetup table t-conc)
	size=$(blockdev --getsize64 "$dev")
	step=$((size / 8 / 65536 * 65536))
	wins=
	for i in 0 1 2 3 4 5 6 7; do
		wins="$wins $((i * step / 65536))"
	done
	for w in $wins; do
		echo "$w $(dd if="$dev" bs=65536 skip="$w" count=1 iflag=direct 2>/dev/null |
			md5sum | cut -d' ' -f1)"
	done >/tmp/conc.base
	pids=
	rm -f /tmp/conc.stop
	for i in 1 2; do
		(while [ ! -e /tmp/conc.stop ]; do
			dd if="$dev" bs=256k iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1
		done >/tmp/conc.seq.$i) &
		pids="$pids $!"
	done
	for i in 1 2; do
		(while [ ! -e /tmp/conc.stop ]; do
			shuf /tmp/conc.base | while read -r w sum; do
				got=$(dd if="$dev" bs=65536 skip="$w" count=1 iflag=direct 2>/dev/null |
					md5sum | cut -d' ' -f1)
				[ "$got" = "$sum" ] && echo ok || echo "bad $w"
			done
		done >/tmp/conc.win.$i) &
		pids="$pids $!"
	done
	cycles=0
	while [ $cycles -lt 20 ]; do
		dmsetup suspend t-conc && dmsetup resume t-conc || break
		dmsetup reload --readonly t-conc --table "$table" &&
			dmsetup resume t-conc || break
		cycles=$((cycles + 1))
	done
	touch /tmp/conc.stop
	wait $pids
	ktap_result "$([ $cycles = 20 ]; echo $?)" \
		"concurrency: 20 suspend/resume/reload cycles under O_DIRECT readers"
	n=$(cat /tmp/conc.seq.* | wc -l)
	bad=$(cat /tmp/conc.seq.* | grep -vc "^$want\$")
	ktap_result "$([ "$bad" = 0 ] && [ "$n" -ge 2 ]; echo $?)" \
		"concurrency: $n whole-disk O_DIRECT reads meanwhile, $bad wrong"
	n=$(cat /tmp/conc.win.* | wc -l)
	bad=$(cat /tmp/conc.win.* | grep -vc '^ok$')
	ktap_result "$([ "$bad" = 0 ] && [ "$n" -ge 16 ]; echo $?)" \
		"concurrency: $n O_DIRECT window reads in changing order meanwhile, $bad wrong"
	[ "$bad" = 0 ] || ktap_diag "$(grep -v '^ok$' /tmp/conc.win.* | head -n 5)"

	dd if="$dev" bs=256k iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1 >/tmp/conc.last &
	pid=$!
	sleep 0.2
	dmsetup remove --deferred t-conc
	ktap_result $? "concurrency: a deferred remove is taken while a reader holds the device"
	wait $pid
	ktap_result "$([ "$(cat /tmp/conc.last)" = "$want" ]; echo $?)" \
		"concurrency: the reader finishes right after the deferred remove"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		dmsetup info t-conc >/dev/null 2>&1 || break
		sleep 0.5
	done
	ktap_result "$(! dmsetup info t-conc >/dev/null 2>&1; echo $?)" \
		"concurrency: the device goes once its reader closes it"
	rm -f /tmp/conc.* "$dev"
	check_clean "t-conc"
}

# The disk is read-only, but a device stacked on it can be writable: its
# writes reach the target, which must fail them (EIO, counted in its
# status), as it must zeroing done by writes; discards are not offered.
# The disk reads the same afterwards.
cli_writes()
{
	file=$IMAGES/$1 want=$2
	map_image t-wr "$file" || { check_clean t-wr; return; }
	dev=/dev/mapper/t-wr
	sectors=$(blockdev --getsz "$dev")
	dmsetup create t-wr-rw --table "0 $sectors linear $dev 0"
	ktap_result $? "writes: a writable linear device stacks on the read-only disk"
	rw=/dev/mapper/t-wr-rw
	[ -b $rw ] || mknod $rw b $(dmsetup info -c --noheadings -o major,minor t-wr-rw | tr ':' ' ')
	e0=$(vdisk_status t-wr 8)
	dd if=/dev/urandom of=$rw bs=4096 count=1 seek=1 oflag=direct conv=notrunc 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -Eq 'I/O error|Input/output error' /tmp/err; echo $?)" \
		"writes: an O_DIRECT write fails with EIO"
	e1=$(vdisk_status t-wr 8)
	ktap_result "$([ "$e1" -gt "$e0" ]; echo $?)" \
		"writes: the write reached the target, which failed it ($e0 -> $e1 errors)"
	/usr/sbin/blkdiscard -z -o 0 -l 65536 $rw 2>/tmp/err
	ktap_result "$([ $? -ne 0 ]; echo $?)" "writes: zeroing (BLKZEROOUT) fails"
	e2=$(vdisk_status t-wr 8)
	ktap_result "$([ "$e2" -gt "$e1" ]; echo $?)" \
		"writes: zeroing reached the target as writes, which it failed ($e1 -> $e2 errors)"
	/usr/sbin/blkdiscard -o 0 -l 65536 $rw 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -qi 'not supported' /tmp/err; echo $?)" \
		"writes: discard is not offered by the disk"
	dmsetup remove t-wr-rw
	rm -f $rw
	ktap_result "$([ "$(md5_dev "$dev")" = "$want" ]; echo $?)" \
		"writes: the disk reads as before"
	unmap_image t-wr
}

# A writable overlay (dm-snapshot) over the read-only disk: in RAM, and in
# a file that keeps the changes across remove and create; the image file
# is never written.
cli_overlay()
{
	file=$IMAGES/$1 want=$2
	before=$(md5sum <"$file" | cut -d' ' -f1)
	dd if=/dev/urandom of=/tmp/ov.bin bs=65536 count=4 2>/dev/null
	written=$(md5sum </tmp/ov.bin | cut -d' ' -f1)
	for store in ram /tmp/ov.cow; do
		out=$($VDISK create t-ov "$file" --overlay "$store" 2>/tmp/err)
		ktap_result "$([ "$out" = /dev/mapper/t-ov ]; echo $?)" \
			"overlay $store: create --overlay"
		[ "$out" = /dev/mapper/t-ov ] || { ktap_diag "$(cat /tmp/err)"; continue; }
		ktap_result "$([ "$(blockdev --getro "$out")" = 0 ]; echo $?)" \
			"overlay $store: device is writable"
		ktap_result "$([ "$(md5_dev "$out")" = "$want" ]; echo $?)" \
			"overlay $store: reads the disk before any write"
		dd if=/tmp/ov.bin of="$out" bs=65536 seek=3 conv=notrunc oflag=direct 2>/dev/null
		ktap_result $? "overlay $store: write 256 KiB"
		got=$(md5_range "$out" $((3 * 65536)) 262144 65536)
		ktap_result "$([ "$got" = "$written" ]; echo $?)" \
			"overlay $store: reads back what was written"
		used=$($VDISK info t-ov | sed -n 's/^overlay_used_bytes: //p')
		ktap_result "$([ "${used:-0}" -gt 0 ]; echo $?)" \
			"overlay $store: info shows the overlay in use ($used bytes)"
		$VDISK remove t-ov
		ktap_result $? "overlay $store: remove"
		check_clean "overlay $store"
	done
	# The file store kept the write: a new device over it shows it.
	if map_image t-ov "$file" "--overlay=/tmp/ov.cow"; then
		got=$(md5_range /dev/mapper/t-ov $((3 * 65536)) 262144 65536)
		ktap_result "$([ "$got" = "$written" ]; echo $?)" \
			"overlay file: the write survives remove and create"
		unmap_image t-ov
	fi
	rm -f /tmp/ov.cow /tmp/ov.bin
	ktap_result "$([ "$(md5sum <"$file" | cut -d' ' -f1)" = "$before" ]; echo $?)" \
		"overlay: the image file is unchanged"
}

# vdisk mount and umount: the one file system, or the partition named; a
# clear refusal when several could be meant; writable over an overlay;
# umount leaves nothing behind.
cli_mount()
{
	mkdir -p /tmp/m1
	out=$($VDISK mount "$IMAGES/mnt-whole.qcow2" /tmp/m1 2>/tmp/err)
	ktap_result "$([ $? = 0 ] && grep -qx 'whole disk' /tmp/m1/hello.txt; echo $?)" \
		"mount: the disk's file system, read-only ($out)"
	[ -s /tmp/err ] && ktap_diag "$(cat /tmp/err)"
	ktap_result "$(touch /tmp/m1/x 2>/dev/null; [ $? -ne 0 ]; echo $?)" \
		"mount: the file system cannot be written"
	$VDISK umount /tmp/m1
	ktap_result $? "umount"
	check_clean "mount whole disk"
	# A mount point with a space: mountinfo writes it as \040.
	mkdir -p "/tmp/m 2"
	$VDISK mount "$IMAGES/mnt-whole.qcow2" "/tmp/m 2" >/dev/null 2>/tmp/err &&
		$VDISK umount "/tmp/m 2" 2>>/tmp/err
	ktap_result "$([ $? = 0 ] && ! grep -q ' /tmp/m\\0402 ' /proc/mounts; echo $?)" \
		"mount and umount on a folder whose name has a space"
	[ -s /tmp/err ] && ktap_diag "$(cat /tmp/err)"
	check_clean "mount on a folder with a space"

	$VDISK mount "$IMAGES/mnt-two.vmdk" /tmp/m1 >/dev/null 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && [ "$(wc -l </tmp/err)" = 1 ] &&
		grep -q 'mnt-two.vmdk: more than one partition holds a file system; name one with --partition N (partitions 1: ext4, 2: ext4)' /tmp/err;
		echo $?)" "mount: two file systems: refused, naming the partitions"
	check_clean "mount refused"
	$VDISK mount "$IMAGES/mnt-two.vmdk" /tmp/m1 --partition 2 >/dev/null 2>/tmp/err
	ktap_result "$([ $? = 0 ] && grep -qx 'partition two' /tmp/m1/hello.txt; echo $?)" \
		"mount --partition 2: that file system"
	$VDISK umount /tmp/m1
	ktap_result $? "umount of a partition"
	check_clean "mount partition"
	$VDISK mount "$IMAGES/mnt-two.vmdk" /tmp/m1 --partition 7 >/dev/null 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -q 'mnt-two.vmdk: has no partition 7' /tmp/err; echo $?)" \
		"mount --partition 7: refused"
	check_clean "mount missing partition"

	before=$(md5sum <"$IMAGES/mnt-two.vmdk")
	$VDISK mount --overlay ram -o noatime "$IMAGES/mnt-two.vmdk" /tmp/m1 --partition=1 >/dev/null
	echo written >/tmp/m1/new.txt 2>/dev/null
	ktap_result "$(grep -qx written /tmp/m1/new.txt && grep -q ' /tmp/m1 .*noatime' /proc/mounts; echo $?)" \
		"mount --overlay ram -o noatime: writable, options passed"
	$VDISK umount /tmp/m1
	ktap_result "$([ $? = 0 ] && [ "$(md5sum <"$IMAGES/mnt-two.vmdk")" = "$before" ]; echo $?)" \
		"umount of an overlay; the image is unchanged"
	check_clean "mount overlay"
	$VDISK umount /tmp/m1 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -q 'nothing is mounted there' /tmp/err; echo $?)" \
		"umount of a folder nothing is mounted on: refused"
}

# vdisk list: the devices vdisk made (not their layers), with the chain's
# files, the format, the overlay and its use.
cli_list()
{
	first=$(awk '$1 == "map" { print $3; exit }' "$IMAGES/cases.txt")
	map_image t-l1 "$IMAGES/$first" "--overlay ram" || return
	map_image t-l2 "$IMAGES/ch-top.qcow2" || { unmap_image t-l1; return; }
	$VDISK list --json >/tmp/list
	st=$?
	ktap_result $st "list: --json"
	grep -q '"name":"t-l1",.*"images":\["'"$IMAGES/$first"'"\].*"overlay":true,"overlay_used_bytes":' /tmp/list
	ktap_result $? "list: the overlaid device, its image and its overlay"
	grep -q '"name":"t-l2","size_bytes":[0-9]*,"images":\["'"$IMAGES/ch-top.qcow2"'","[^"]*ch-[a-z]*.qcow2".*"format":"qcow2","overlay":false' /tmp/list
	ktap_result $? "list: the chained device with its parents' files, top first"
	ktap_result "$(! grep -q '"name":"t-l[12]-' /tmp/list; echo $?)" \
		"list: layers are not listed as devices"
	[ $st = 0 ] || ktap_diag "$(cat /tmp/list)"
	$VDISK list >/tmp/list
	ktap_result "$(grep -q '^    name: t-l2$' /tmp/list && grep -q '^    format: qcow2$' /tmp/list; echo $?)" \
		"list: text output"
	$VDISK remove t-l2 && $VDISK remove t-l1
	ktap_result $? "list: both removed"
	check_clean "list"
}

# vdisk attach and detach: the lines of a vdisktab(5), as the systemd units
# made from it map them at boot; a wrong line fails alone, naming itself.
cli_tab()
{
	export VDISKTAB=/tmp/vdisktab
	cat >$VDISKTAB <<-EOF
		# a comment, then a blank line

		t-tab1 $IMAGES/mnt-two.vmdk
		t-tab2	$IMAGES/mnt-two.vmdk  no-partitions,format=vmdk,overlay=ram
		t-tab3 $IMAGES/missing.vmdk nofail
		t-tab4 $IMAGES/mnt-two.vmdk frobnicate
		t-tab5 $IMAGES/mnt-two.vmdk format=qcow2
	EOF
	out=$($VDISK attach t-tab1 2>/tmp/err)
	ktap_result "$([ "$out" = /dev/mapper/t-tab1 ] && [ -b /dev/mapper/t-tab1p2 ]; echo $?)" \
		"attach: a line maps the image and its partitions"
	[ -s /tmp/err ] && ktap_diag "$(cat /tmp/err)"
	$VDISK attach t-tab2 >/dev/null 2>/tmp/err
	ktap_result "$([ $? = 0 ] && [ ! -e /dev/mapper/t-tab2p1 ] &&
		[ "$(blockdev --getro /dev/mapper/t-tab2)" = 0 ]; echo $?)" \
		"attach: options no-partitions, format=, overlay=ram"
	[ -s /tmp/err ] && ktap_diag "$(cat /tmp/err)"
	$VDISK detach t-tab1 && $VDISK detach t-tab2
	ktap_result $? "detach: both removed"
	$VDISK detach t-tab1
	ktap_result $? "detach: a name that is not mapped is not an error"
	check_clean "attach"
	$VDISK attach t-tab3 >/dev/null 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && [ "$(wc -l </tmp/err)" = 1 ] &&
		grep -q "missing.vmdk" /tmp/err; echo $?)" "attach: a missing image: one line naming it"
	$VDISK attach t-tab4 >/dev/null 2>/tmp/err
	ktap_result "$(grep -qx "vdisk: $VDISKTAB:6 (t-tab4): unknown option \"frobnicate\"" /tmp/err; echo $?)" \
		"attach: an unknown option: the file, line and option named"
	$VDISK attach t-tab5 >/dev/null 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -q "mnt-two.vmdk: not a qcow2 image" /tmp/err; echo $?)" \
		"attach: a wrong format= is refused"
	$VDISK attach t-tab9 >/dev/null 2>/tmp/err
	ktap_result "$(grep -qx "vdisk: $VDISKTAB: no line for t-tab9" /tmp/err; echo $?)" \
		"attach: a name with no line"
	check_clean "attach refused"
	unset VDISKTAB
	rm -f /tmp/vdisktab
}

cli_misc()
{
	first=$(awk '$1 == "map" { print $3; exit }' "$IMAGES/cases.txt")
	$VDISK table "$IMAGES/$first" >/dev/null 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -q 'not a block device' /tmp/err; echo $?)" \
		"cli: vdisk table refuses a regular file"
	map_image t-dup "$IMAGES/$first" || return
	$VDISK create t-dup "$IMAGES/$first" >/dev/null 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -q 't-dup: .*already exists' /tmp/err; echo $?)" \
		"cli: a second device of the same name is refused"
	ktap_result "$([ "$(leftovers | wc -l)" = 2 ]; echo $?)" \
		"cli: the refused duplicate attached nothing"
	dd if=/dev/mapper/t-dup of=/dev/null bs=64k count=16 2>/dev/null
	ktap_result $? "cli: first device survives the refused duplicate"
	dmsetup create --readonly t-foreign --table "0 8 zero"
	$VDISK remove t-foreign 2>/tmp/err
	ktap_result "$([ $? -ne 0 ] && grep -q 'not created by vdisk' /tmp/err; echo $?)" \
		"cli: vdisk remove leaves devices it did not create"
	dmsetup remove t-foreign
	# The module must stay while a device uses it.
	if rmmod dm_vdisk 2>/dev/null; then
		ktap_fail "cli: module unload refused while mapped"
	else
		ktap_ok "cli: module unload refused while mapped"
	fi
	$VDISK info t-dup >/tmp/info
	ktap_result "$(grep -q '^memory_bytes: [1-9]' /tmp/info &&
		grep -q '^cache_hits: [0-9]' /tmp/info; echo $?)" \
		"cli: vdisk info NAME shows the target's counters and memory"
	unmap_image t-dup
	rmmod dm_vdisk
	ktap_result $? "cli: module unloads once nothing is mapped"
}

# Files named inside images (tests/lib/mkimages.py references()): each
# kind of reference, led out of the image's folder by "../", an absolute
# path, a symbolic link, or made a FIFO, a character or a block device: all
# refused in one line, nothing left behind, nothing hanging; with --allow
# the same images map and read as qemu reads them.
ref_refused()
{
	expect_refusal "t-ref-$1" "$2" "$3" $4
}

# ahead_waits NAME FILE STRIDE K...: sets n to the bios the worker took
# (each one a wait for a table block) while one 4 KiB O_DIRECT read at a
# time touched unit K * STRIDE (in 4 KiB blocks) of FILE, mapped cold as
# NAME, for each K in turn.
ahead_waits()
{
	local name=$1 file=$2 stride=$3 k
	shift 3
	n=
	map_image "$name" "$file" || return
	for k; do
		dd if="/dev/mapper/$name" of=/dev/null bs=4k count=1 \
			skip=$((k * stride + 5)) iflag=direct 2>/dev/null
	done
	n=$(vdisk_status "$name" 6)
	unmap_image "$name"
}

# Table readahead: a cold reader waits once per 64 KiB of table, not once
# per 4 KiB table block.  Each read below needs a block of its own: 16 of
# basic.qcow2's L2 table (64 KiB clusters, 32 MiB of disk a block), which
# is one window; 64 and 96 of big.vmdk's grain tables (64 MiB a block),
# which start 512 bytes into a block and take 5 and 7 windows.
cli_ahead()
{
	ahead_waits t-ahead-qcow2 "$IMAGES/basic.qcow2" 8192 $(seq 0 15)
	ktap_result "$([ "${n:-99}" -le 1 ]; echo $?)" \
		"ahead: QCOW2, 16 L2 table blocks in order: one wait ($n)"
	# A stream: the first window, then two at a time.
	ahead_waits t-ahead-vmdk "$IMAGES/big.vmdk" 16384 $(seq 0 63)
	ktap_result "$([ "${n:-99}" -le 3 ]; echo $?)" \
		"ahead: VMDK, 64 grain table blocks in order: at most 3 waits ($n)"
	ahead_waits t-ahead-rand "$IMAGES/big.vmdk" 16384 \
		$(for k in $(seq 0 95); do echo $((k * 37 % 96)); done)
	ktap_result "$([ "${n:-99}" -le 7 ]; echo $?)" \
		"ahead: VMDK, 96 grain table blocks out of order: at most 7 waits ($n)"
}

# Compressed units decompressed only as far as a bio reads: 512-byte reads
# in the middle, at the end and at the start of units freshly mapped (each
# unit's first bio inflates it in part, a later one past that in whole)
# match the same bytes of a whole read, which matches qemu-img.
cli_partial()
{
	local img want sec secs
	# Sectors of units 0 1 2 3 5 8 13 21 34 (128 each): middle, end,
	# start, near the start, just before the middle.
	secs=$(for u in 0 1 2 3 5 8 13 21 34; do
		for o in 71 127 0 9 70; do echo $((u * 128 + o)); done
	done)
	for img in stream-random.vmdk stream-vmware.vmdk comp-zlib.qcow2 \
		comp-zstd.qcow2 qcow1-compressed.qcow; do
		want=$(awk -v f="$img" '$1 == "map" && $3 == f { print $5; exit }' "$IMAGES/cases.txt")
		map_image t-partial "$IMAGES/$img" || continue
		: >/tmp/part.dev
		: >/tmp/part.ref
		for sec in $secs; do
			dd if=/dev/mapper/t-partial bs=512 count=1 iflag=direct \
				skip="$sec" 2>/dev/null >>/tmp/part.dev
		done
		dd if=/dev/mapper/t-partial of=/tmp/part.whole bs=1M iflag=direct 2>/dev/null
		for sec in $secs; do
			dd if=/tmp/part.whole bs=512 count=1 skip="$sec" 2>/dev/null >>/tmp/part.ref
		done
		ktap_result "$([ "$(md5sum </tmp/part.whole | cut -d' ' -f1)" = "$want" ]; echo $?)" \
			"partial $img: the whole device matches qemu-img"
		ktap_result "$([ -s /tmp/part.dev ] && cmp -s /tmp/part.dev /tmp/part.ref; echo $?)" \
			"partial $img: 45 pieces read first match the whole read"
		ktap_result "$(vdisk_status t-partial 8)" "partial $img: no errors counted"
		unmap_image t-partial
		rm -f /tmp/part.dev /tmp/part.ref /tmp/part.whole
	done
}

# batch_reads NAME BS LOOP: read NAME's whole device cold (a suspend
# empties its caches) in BS blocks into /tmp/batch.BS; prints how many reads
# its image's loop device LOOP served meanwhile.
batch_reads()
{
	dmsetup suspend "$1" && dmsetup resume "$1"
	r0=$(awk '{ print $1 }' "/sys/block/$3/stat")
	dd if="/dev/mapper/$1" of="/tmp/batch.$2" bs="$2" iflag=direct 2>/dev/null
	echo $(($(awk '{ print $1 }' "/sys/block/$3/stat") - r0))
}

# batch_learn NAME LOOP: a fresh device reads an eighth more than a unit
# and a sector for each VMDK grain before it has seen any grain's marker.
# One grain at a time through the compressible half of stream-vmware.vmdk
# (160 grains of text that deflate to a sector), it learns they are small
# and reads less each time: at most 7/8 of 160 units and sectors in all
# (about 5/6 on 2 CPUs, where each inflater learns from half the grains).
batch_learn()
{
	local s0 s1
	s0=$(awk '{ print $3 }' "/sys/block/$2/stat")
	dd if="/dev/mapper/$1" of=/dev/null bs=64k count=160 iflag=direct 2>/dev/null
	s1=$(awk '{ print $3 }' "/sys/block/$2/stat")
	ktap_result "$([ $((s1 - s0)) -gt 0 ] && [ $(((s1 - s0) * 8)) -le $((160 * 129 * 7)) ]; echo $?)" \
		"batch stream-vmware.vmdk: 160 small grains one at a time read $((s1 - s0)) sectors, at most 7/8 of 160 units and sectors"
}

# Compressed data is read for a batch of bios at once.  Cold, a reader of
# 8 MiB blocks has adjacent units' data read together: at most half the
# reads of the image that a reader of one 64 KiB unit at a time causes
# (about a seventh for incompressible grains, as the timing allows).
# And 32 readers of 4 KiB at scattered places at once, cold, get what the
# whole read got.
cli_batch()
{
	local img want loop one big size offs s k pids bad
	for img in stream-random.vmdk stream-vmware.vmdk comp-zlib.qcow2 comp-zstd.qcow2; do
		want=$(awk -v f="$img" '$1 == "map" && $3 == f { print $5; exit }' "$IMAGES/cases.txt")
		map_image t-batch "$IMAGES/$img" || continue
		loop=$(dmsetup deps -o devname t-batch | sed -n 's/.*(\([^)]*\)).*/\1/p')
		[ "$img" != stream-vmware.vmdk ] || batch_learn t-batch "$loop"
		one=$(batch_reads t-batch 64k "$loop")
		big=$(batch_reads t-batch 8M "$loop")
		ktap_result "$([ "$(md5sum </tmp/batch.64k | cut -d' ' -f1)" = "$want" ] &&
			cmp -s /tmp/batch.64k /tmp/batch.8M; echo $?)" \
			"batch $img: read in 64 KiB and in 8 MiB blocks, it matches qemu-img"
		ktap_result "$([ "${big:-0}" -gt 0 ] && [ $((big * 2)) -le "${one:-0}" ]; echo $?)" \
			"batch $img: 8 MiB blocks read the image in $big reads, 64 KiB ones in $one"
		dmsetup suspend t-batch && dmsetup resume t-batch
		size=$(blockdev --getsz /dev/mapper/t-batch)
		# 32 places, 4 KiB aligned, spread over the disk.
		offs=$(for k in $(seq 0 31); do echo $((k * 7919 * 8 % (size - 8) / 8 * 8)); done)
		pids= k=0
		for s in $offs; do
			dd if=/dev/mapper/t-batch of=/tmp/batch.p$k bs=512 count=8 skip=$s \
				iflag=direct 2>/dev/null &
			pids="$pids $!" k=$((k + 1))
		done
		wait $pids
		bad=0 k=0
		for s in $offs; do
			dd if=/tmp/batch.64k bs=512 count=8 skip=$s 2>/dev/null |
				cmp -s - /tmp/batch.p$k || bad=$((bad + 1))
			k=$((k + 1))
		done
		ktap_result "$([ $bad = 0 ]; echo $?)" \
			"batch $img: 32 scattered 4 KiB readers at once, cold: $bad wrong"
		ktap_result "$(vdisk_status t-batch 8)" "batch $img: no errors counted"
		unmap_image t-batch
		rm -f /tmp/batch.*
	done
}

cli_refs()
{
	rm -rf /tmp/refs
	cp -a "$IMAGES/refs" /tmp/refs
	# (map_image and the other helpers use $out, $loop, ...: not these)
	r_vm=/tmp/refs/vm r_out=/tmp/refs/outside
	saved=$VDISK
	# A FIFO must never block create: a hang fails the test, not the run.
	VDISK="timeout 60 $saved"
	while read -r kind ext bytes want target <&4; do
		[ "$kind" = raw ] && continue
		r_ref=$r_vm/$target-ref
		r_img=$r_vm/$kind-ref.$ext
		ref_refused "$kind-up" "$r_vm/$kind-up.$ext" "\"\\.\\./outside/$target\" is outside the image's folder \\(use --allow\\)"
		ref_refused "$kind-abs" "$r_vm/$kind-abs.$ext" "\"$r_out/$target\" is outside the image's folder"
		ln -s "../outside/$target" "$r_ref"
		ref_refused "$kind-symlink" "$r_img" "\"$target-ref\" is outside the image's folder"
		rm "$r_ref"
		mkfifo "$r_ref"
		ref_refused "$kind-fifo" "$r_img" "is a FIFO, not a regular file"
		rm "$r_ref"
		mknod "$r_ref" c 1 3
		ref_refused "$kind-chardev" "$r_img" "is a character device, not a regular file"
		rm "$r_ref"
		mknod "$r_ref" b $(tr : ' ' </sys/block/vda/dev)
		ref_refused "$kind-blockdev" "$r_img" "is a block device \\(use --allow\\)"
		rm "$r_ref"

		# The target on a loop device, named in the folder: --allow
		# naming the device lets it be used.
		r_loop=$(losetup -f)
		losetup -r "$r_loop" "$r_out/$target"
		mknod "$r_ref" b $(tr : ' ' <"/sys/block/${r_loop#/dev/}/dev")
		if map_image "t-ref-$kind" "$r_img" "--allow $r_loop"; then
			got=$(md5_dev "/dev/mapper/t-ref-$kind")
			ktap_result "$([ "$got" = "$want" ]; echo $?)" \
				"ref $kind: a block device --allow names maps as qemu reads it"
			$VDISK remove "t-ref-$kind"
			ktap_result $? "ref $kind: remove over the allowed block device"
		fi
		rm "$r_ref"
		losetup -d "$r_loop"
		check_clean "ref $kind blockdev"

		ln -s "../outside/$target" "$r_ref"
		for form in up abs ref; do
			map_image "t-ref-$kind" "$r_vm/$kind-$form.$ext" "--allow $r_out" || continue
			got=$(md5_dev "/dev/mapper/t-ref-$kind")
			ktap_result "$([ "$got" = "$want" ] &&
				[ "$(blockdev --getsize64 "/dev/mapper/t-ref-$kind")" = "$bytes" ]; echo $?)" \
				"ref $kind-$form: with --allow it maps as qemu reads it"
			unmap_image "t-ref-$kind"
		done
		rm "$r_ref"
	done 4<"$IMAGES/refs/expect.txt"

	# A parent in no format vdisk knows is raw only when the user names it.
	set -- $(awk '$1 == "raw"' "$IMAGES/refs/expect.txt")
	ref_refused undeclared-raw "$r_vm/undeclared.qcow2" "backing file \"raw.bin\" is in no format vdisk knows"
	ref_refused undeclared-raw-folder "$r_vm/undeclared.qcow2" "no format vdisk knows" "--allow $r_vm"
	if map_image t-ref-raw "$r_vm/undeclared.qcow2" "--allow $r_vm/raw.bin"; then
		ktap_result "$([ "$(md5_dev /dev/mapper/t-ref-raw)" = "$4" ]; echo $?)" \
			"ref raw: named with --allow, the raw parent maps as qemu reads it"
		unmap_image t-ref-raw
	fi

	# info lists each reference and the policy's verdict, opening nothing.
	mkfifo "$r_vm/data.bin-ref"
	$VDISK info --json "$r_vm/data-ref.qcow2" >/tmp/info 2>&1
	grep -q '"kind":"data file","name":"data.bin-ref".*"allowed":false,"refused":"is a FIFO' /tmp/info
	st=$?
	ktap_result $st "ref info: lists the data file and why it is refused"
	[ $st = 0 ] || ktap_diag "$(cat /tmp/info)"
	rm "$r_vm/data.bin-ref"
	$VDISK info --allow "$r_out" "$r_vm/backing-up.qcow2" >/tmp/info 2>&1
	ktap_result "$(grep -q '^    allowed: true' /tmp/info &&
		grep -q "^    path: $r_out/base.qcow2" /tmp/info; echo $?)" \
		"ref info: with --allow the backing file is allowed"
	VDISK=$saved
	rm -rf /tmp/refs
	check_clean "refs"
}

# Run a case or a cli group unless cases.filter (a regex) leaves it out.
wanted()
{
	[ ! -s ./cases.filter ] || echo "$1" | grep -Eq "$(cat ./cases.filter)"
}

run_cases()
{
	# fd 3: the tools inside the loop must not eat the case list.
	while read -r kind name file rest <&3; do
		wanted "$name" || continue
		case $kind in
		map) case_map "$name" "$file" $rest ;;
		mapopt)
			set -- $rest
			case_map "$name" "$file" "$2" "$3" "$1"
			;;
		mapss)
			set -- $rest
			case_map "$name" "$file" "$2" "$3" "" "$1"
			;;
		parts) case_parts "$name" "$file" $rest ;;
		mappart)
			set -- $rest
			case_map "$name" "$file" "$2" "$3" "--partition=$1"
			;;
		win) case_win "$name" "$file" $rest ;;
		big)
			set -- $rest
			bytes=$1
			shift 2
			case_win "$name" "$file" "$bytes" "$@"
			;;
		eio) case_eio "$name" "$file" $rest ;;
		fault) case_fault "$name" "$file" $rest ;;
		cache) case_cache "$name" "$file" $rest ;;
		mem) case_mem "$name" "$file" $rest ;;
		resume) case_resume "$name" "$file" $rest ;;
		refuse|refuse-chain) expect_refusal "t-$name" "$IMAGES/$file" "$rest" ;;
		refuse-opt|refuse-create)
			set -- $rest
			expect_refusal "t-$name" "$IMAGES/$file" "$2" "$1"
			;;
		esac
	done 3<"$IMAGES/cases.txt"
	set -- $(awk '$1 == "map" { print $3, $5; exit }' "$IMAGES/cases.txt")
	wanted cli_refs && cli_refs
	wanted cli_ahead && cli_ahead
	wanted cli_partial && cli_partial
	wanted cli_batch && cli_batch
	for c in dmsetup blockdev concurrency writes overlay list mount tab; do
		wanted "cli_$c" && "cli_$c" "$1" "$2"
	done
	wanted cli_misc && cli_misc
}
