#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make deb: the Debian package, built the Debian way (debian/: debhelper,
# dh-dkms) by dpkg-buildpackage in a copy of the tree under OUTDIR, so
# nothing is written beside the clone.  Prints the .deb's path last
# (tests/package.sh runs lintian on it).
# usage: mkdeb.sh OUTDIR
set -eu
cd "$(dirname "$0")/.."
out=$(realpath -m "$1")
version=$(dpkg-parsechangelog -S Version)
src=$out/build/dm-vdisk-$version

rm -rf "$out/build"
mkdir -p "$src"
# What git has, committed or not (not what it ignores: builds, tests/out).
git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp -P --parents -t "$src/"
(cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
	tail -n 20 "$out/build.log" >&2
	exit 1
}
deb=$(ls "$out"/build/dm-vdisk_"$version"_*.deb)
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$out"/build/*.deb "$out/build/"*.changes "$out/build/"*.buildinfo "$out/"
rm -rf "$out/build"
echo "$out/$(basename "$deb")"
