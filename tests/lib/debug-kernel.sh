#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A debug kernel for the test guest (KASAN, UBSAN, lockdep, kmemleak,
# debug objects, fault injection), built from Debian's linux-source-6.1:
# allnoconfig plus tests/vm/debug.config, every option of which must end up
# set as written.  Built once and kept outside the clone:
#
#   $CACHE/kernels/debug-KEY/linux                 the built tree (KDIR)
#   $CACHE/kernels/debug-KEY/vmlinuz               its bzImage
#   $CACHE/kernels/debug-KEY/lib/modules/KREL      modules.builtin & co.
#
# KEY hashes the fragment, this script and the linux-source version, so a
# change to any of them builds a new kernel.  Prints the directory.  The
# build runs under nice: it must not slow down other test runs.
set -eu
CACHE=${VDISK_CACHE:-/var/cache/dm-vdisk}
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
frag=$here/../vm/debug.config
pkg=linux-source-6.1
tarball=/usr/src/$pkg.tar.xz

fail()
{
	echo "debug-kernel: $1${log:+ (log: $log)}" >&2
	[ -z "${log:-}" ] || [ ! -f "$log" ] || tail -n 20 "$log" >&2
	exit 1
}

if [ ! -f "$tarball" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >&2 ||
		fail "cannot install $pkg"
fi
srcver=$(dpkg-query -W -f '${Version}' "$pkg") || fail "$pkg is not installed"
key=$( { cat "$frag" "${BASH_SOURCE[0]}"; echo "$pkg $srcver"; } |
	sha256sum | cut -c1-16)
dir=$CACHE/kernels/debug-$key
mkdir -p "$CACHE/kernels"
# One build at a time; a second caller waits and then uses it.
exec 9>"$CACHE/kernels/debug.lock"
flock 9
if [ -f "$dir/done" ]; then
	echo "$dir"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$dir/linux"
log=$dir/build.log
t0=$(date +%s)
nice -n 19 tar -xJf "$tarball" -C "$dir/linux" --strip-components=1 ||
	fail "cannot unpack $tarball"
k=$dir/linux
kmake()
{
	nice -n 19 make -C "$k" ARCH=x86_64 "$@" >>"$log" 2>&1
}
# allnoconfig with the fragment forced (merge_config.sh -n runs it with
# KCONFIG_ALLCONFIG), then the defaults of whatever that turned on.
(cd "$k" && ARCH=x86_64 nice -n 19 scripts/kconfig/merge_config.sh -n \
	/dev/null "$frag") >>"$log" 2>&1 || fail "merge_config.sh failed"
kmake olddefconfig || fail "olddefconfig failed"

# Every line of the fragment as written: CONFIG_X=V, or X not set.
missing=
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$k/.config" ||
			missing="$missing
  wanted $line, got: $(grep -E "^(# )?${line%%=*}[= ]" "$k/.config" || echo 'nothing (no such option here)')"
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$k/.config" ||
			missing="$missing
  wanted $line, got: $(grep "^$opt=" "$k/.config")"
		;;
	esac
done <"$frag"
[ -z "$missing" ] || fail "options of $frag not set as written:$missing"

jobs=${DEBUG_KERNEL_JOBS:-$(nproc)}
kmake -j"$jobs" bzImage modules || fail "the kernel build failed"
krel=$(cat "$k/include/config/kernel.release")
[ -f "$k/Module.symvers" ] || fail "no Module.symvers"
cp "$k/arch/x86/boot/bzImage" "$dir/vmlinuz"
# The guest rig's module tree: no modules, but modules.builtin tells its
# modprobe logic what is built in.
mods=$dir/lib/modules/$krel
mkdir -p "$mods"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	cp "$k/$f" "$mods/" || fail "no $f"
done
ln -s "$k" "$mods/build"
depmod -b "$dir" "$krel" || fail "depmod failed"
echo "$(($(date +%s) - t0))" >"$dir/build-seconds"
echo "$krel" >"$dir/kernel.release"
touch "$dir/done"
echo "$dir"
