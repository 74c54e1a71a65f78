#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The test images (tests/lib/mkimages.py) into DIR, made once and kept
# outside the clone:
#
#   $CACHE/images/KEY/     a finished set, copied (sparse) into DIR
#
# KEY hashes what makes them: mkimages.py and its generators, this script,
# the corpus's MANIFEST.md and file sizes, qemu-img's and python's versions
# and VDISK_TEST_SEED.  mkimages.py checks every image against qemu-img as
# it makes it; those checks run again whenever any of these change.  Only
# the newest set is kept (about 2.5 GB).  TAP, one result.
set -u
dir=$1
CACHE=${VDISK_CACHE:-/var/cache/dm-vdisk}
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
corpus=${CORPUS:-$here/../../../shared/corpus}

key=$( {
	cat "$here/mkimages.py" "$here"/*gen.py "${BASH_SOURCE[0]}"
	cat "$corpus/MANIFEST.md" 2>/dev/null
	(cd "$corpus" 2>/dev/null && find . -type f -printf '%P %s\n' | sort)
	qemu-img --version
	python3 --version
	echo "seed=${VDISK_TEST_SEED:-}"
} | sha256sum | cut -c1-16)
store=$CACHE/images
mkdir -p "$store"
exec 9>"$store/lock"
flock 9

rm -rf "$dir"
if [ -f "$store/$key/done" ]; then
	cp -a "$store/$key/images" "$dir"
	status=$?
	[ $status -eq 0 ] && echo "ok 1 images made (cached in $store/$key)" ||
		echo "not ok 1 images copied from $store/$key"
	echo "1..1"
	exit $status
fi

t0=$SECONDS
python3 "$here/mkimages.py" "$dir"
status=$?
if [ $status -ne 0 ]; then
	echo "not ok 1 images made (mkimages.py exited with $status)"
	echo "1..1"
	exit 1
fi
echo "ok 1 images made in $((SECONDS - t0)) s"
echo "1..1"
# Kept for the next run; a failure to keep them fails nothing.
find "$store" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} +
rm -rf "${store:?}/$key"
mkdir -p "$store/$key" &&
	cp -a "$dir" "$store/$key/images" &&
	touch "$store/$key/done" || rm -rf "${store:?}/$key"
exit 0
