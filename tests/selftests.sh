#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest selftests: make the images on the host, boot Debian's kernel in QEMU
# with the module and the helper, run tests/selftests/run there (TAP).
# Another kernel: GUEST_KERNEL (its vmlinuz), GUEST_MODULES (its
# lib/modules/KVER tree) and VDISK_KO (the module built for it); the guest
# then checks that it runs that kernel.  OUT keeps runs apart.
set -eu
cd "$(dirname "$0")/.."
OUT=${OUT:-tests/out/guest}
rm -rf "$OUT"
mkdir -p "$OUT/data"

export VDISK_KO=${VDISK_KO:-dm-vdisk/dm-vdisk.ko} VDISK_BIN=tools/vdisk-static
tests/vm/build-initramfs.sh "$OUT/initramfs.cpio.gz"
kver=${KVER:-}
[ -z "${GUEST_MODULES:-}" ] || kver=$(basename "$GUEST_MODULES")
[ -z "$kver" ] || echo "$kver" >"$OUT/data/kver.expect"
if [ -n "${IMAGES:-}" ]; then
	cp -al "$IMAGES" "$OUT/data/images"
else
	python3 tests/lib/mkimages.py "$OUT/data/images"
fi
cp tests/selftests/run tests/selftests/*.sh "$OUT/data/"
# VDISK_CASES=REGEX runs only the cases (and cli_* groups) whose name
# matches: a quick subset while working on one part.
[ -z "${VDISK_CASES:-}" ] || printf '%s\n' "$VDISK_CASES" >"$OUT/data/cases.filter"
tests/vm/run-guest.sh --timeout "${GUEST_TIMEOUT:-1500}" \
	"$OUT/initramfs.cpio.gz" "$OUT/data" "$OUT/run"
