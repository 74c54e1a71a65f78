#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the libFuzzer harnesses of the format core (clang, ASan, UBSan) and
# run each: first over its regression corpus (every input that ever crashed
# it, kept in tests/fuzz/regress/<name>/), then for FUZZ_SECONDS from seeds
# made by qemu-img.  New crashes are saved to tests/out/fuzz/.  TAP.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/tap.sh
SECS=${FUZZ_SECONDS:-20}
OUT=tests/out/fuzz
mkdir -p "$OUT"

CORE="dm-vdisk/core/vmdk.c dm-vdisk/core/vmdk_desc.c dm-vdisk/core/sesparse.c
dm-vdisk/core/qcow2.c dm-vdisk/core/vhdx.c dm-vdisk/core/vhd.c
dm-vdisk/core/vdisk_inflate.c dm-vdisk/core/vdi.c
dm-vdisk/core/qed.c dm-vdisk/core/parallels.c"
FLAGS="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
-fno-sanitize-recover=all -D__packed=__attribute__((__packed__))
-Dfallthrough=__attribute__((__fallthrough__))
-Idm-vdisk/core -Itests/fuzz"

# Seeds: small valid images of every kind.
seeds=$OUT/seeds
if [ ! -d "$seeds" ]; then
	mkdir -p "$seeds"/{vmdk,sesparse,qcow2,vhdx,vdi}
	t=$(mktemp -d)
	qemu-img create -q -f vmdk "$t/a.vmdk" 4M
	qemu-io -c 'write -P 1 64k 200k' "$t/a.vmdk" >/dev/null
	qemu-img create -q -f vmdk -o zeroed_grain=on "$t/b.vmdk" 1M
	qemu-io -c 'write -z 0 64k' -c 'write -P 2 128k 4k' "$t/b.vmdk" >/dev/null
	qemu-img convert -q -f vmdk -O vmdk -o subformat=streamOptimized "$t/a.vmdk" "$t/c.vmdk"
	python3 -c "
import sys; sys.path.insert(0, 'tests/lib'); import vmdkgen
vmdkgen.write_stream('$t/d.vmdk', b'x' * 70000 + bytes(60000))
vmdkgen.write_cowd('$t/e.vmdk', b'y' * 3000 + bytes(100000))
vmdkgen.write_sesparse('$seeds/sesparse/a', 2048, {0: b'z' * 4096, 1: 'zero', 2: 'unmapped'})"
	cp "$t"/*.vmdk "$seeds/vmdk/"
	qemu-img create -q -f qcow2 -o cluster_size=4096 "$t/a.qcow2" 1M
	qemu-io -c 'write -P 3 0 8k' -c 'write -z 64k 4k' "$t/a.qcow2" >/dev/null
	qemu-img create -q -f qcow2 -o cluster_size=16384,extended_l2=on "$t/b.qcow2" 1M
	qemu-io -c 'write -P 4 1k 2k' "$t/b.qcow2" >/dev/null
	qemu-img convert -q -c -f qcow2 -O qcow2 "$t/a.qcow2" "$t/c.qcow2"
	qemu-img convert -q -c -f qcow2 -O qcow2 -o compression_type=zstd "$t/a.qcow2" "$t/d.qcow2"
	qemu-img create -q -f qcow "$t/e.qcow" 1M
	qemu-io -f qcow -c 'write -c -P 5 0 4k' -c 'write -P 6 8k 4k' "$t/e.qcow" >/dev/null
	cp "$t"/*.qcow2 "$t/e.qcow" "$seeds/qcow2/"
	qemu-img create -q -f vhdx -o block_size=1M "$t/a.vhdx" 3M
	qemu-io -f vhdx -c 'write -P 7 0 6k' -c 'write -P 8 2M 4k' "$t/a.vhdx" >/dev/null
	python3 tests/fuzz/pack_vhdx.py "$t" "$seeds/vhdx" "$t/a.vhdx"
	qemu-img create -q -f vdi "$t/a.vdi" 3M
	qemu-io -f vdi -c 'write -P 9 1M 4k' "$t/a.vdi" >/dev/null
	qemu-img create -q -f vdi -o static=on "$t/b.vdi" 2M
	python3 -c "
import sys; sys.path.insert(0, 'tests/lib'); import vdigen
v = vdigen.Vdi(3 << 20, kind=vdigen.TYPE_DIFF, link=b'p' * 16)
v.write(4096, b'w' * 8192); v.zero(2); v.save('$t/c.vdi')"
	cp "$t"/*.vdi "$seeds/vdi/"
	rm -rf "$t"
fi
if [ ! -d "$seeds/qed" ]; then
	mkdir -p "$seeds/qed"
	t=$(mktemp -d)
	qemu-img create -q -f qed -o cluster_size=4096,table_size=2 "$t/a.qed" 1M
	qemu-io -f qed -c 'write -P 9 0 8k' -c 'write -z 64k 4k' "$t/a.qed" >/dev/null
	qemu-img create -q -f raw "$t/b.raw" 1M
	qemu-img create -q -f qed -b b.raw -F raw "$t/b.qed"
	qemu-io -f qed -c 'write -P 10 4k 4k' "$t/b.qed" >/dev/null
	cp "$t"/*.qed "$seeds/qed/"
	rm -rf "$t"
fi
if [ ! -d "$seeds/parallels" ]; then
	mkdir -p "$seeds/parallels"
	t=$(mktemp -d)
	qemu-img create -q -f parallels -o cluster_size=4096 "$t/a.hds" 1M
	qemu-io -f parallels -c 'write -P 11 0 8k' -c 'write -P 12 600k 4k' "$t/a.hds" >/dev/null
	python3 -c "
import sys; sys.path.insert(0, 'tests/lib'); import parallelsgen
p = parallelsgen.Parallels(65536, tracks=7, ext=False, inuse=parallelsgen.INUSE)
p.write(1000, b'v1' * 3000)
p.save('$t/b.hds')"
	cp "$t"/*.hds "$seeds/parallels/"
	rm -rf "$t"
fi

# VHD seeds: qemu-img's dynamic and fixed disks, vhdgen's differencing one.
if [ ! -d "$seeds/vhd" ]; then
	mkdir -p "$seeds/vhd"
	qemu-img create -q -f vpc "$seeds/vhd/a" 3M
	qemu-io -f vpc -c 'write -P 9 0 6k' -c 'write -P 10 2M 4k' "$seeds/vhd/a" >/dev/null
	qemu-img create -q -f vpc -o subformat=fixed,force_size=on "$seeds/vhd/b" 64k
	python3 -c "
import sys; sys.path.insert(0, 'tests/lib'); import vhdgen
b = vhdgen.Vhd(1 << 20, block_size=4096, seed=1)
b.write(0, b'p' * 8192)
c = vhdgen.Vhd(parent=b, block_size=4096, seed=2)
c.write(512, b'c' * 1024)
c.write(40960, b'd' * 512)
c.save('$seeds/vhd/c', [(vhdgen.W2RU, '.\\\\b.vhd')])"
fi

for name in vmdk sesparse qcow2 vhdx vhd vdi qed parallels; do
	bin=$OUT/fuzz_$name
	# shellcheck disable=SC2086
	if ! clang $FLAGS -o "$bin" "tests/fuzz/fuzz_$name.c" $CORE -lz -lzstd 2>"$OUT/$name.build"; then
		result 1 "fuzz_$name: builds"
		sed 's/^/# /' "$OUT/$name.build" | head -20
		continue
	fi
	regress=tests/fuzz/regress/$name
	mkdir -p "$regress"
	"$bin" -runs=0 "$regress" >"$OUT/$name.regress.log" 2>&1
	result $? "fuzz_$name: regression corpus ($(ls "$regress" | wc -l) inputs)"
	mkdir -p "$OUT/corpus-$name"
	"$bin" -max_total_time="$SECS" -max_len=1048576 -rss_limit_mb=2048 \
		-artifact_prefix="$OUT/crash-$name-" "$OUT/corpus-$name" "$seeds/$name" \
		>"$OUT/$name.log" 2>&1
	r=$?
	result $r "fuzz_$name: ${SECS}s from seeds, $(grep -o 'cov: [0-9]*' "$OUT/$name.log" | tail -n 1)"
	[ $r -eq 0 ] || grep -m 5 -E 'ERROR|SUMMARY|abort' "$OUT/$name.log" | sed 's/^/# /'
done
tap_end
