#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dracut initqueue job: once the file system holding the image is there,
# mount it read-only on /run/vdisk/host and map the image as
# /dev/mapper/vdiskroot (see vdisk(8) for vdisk.overlay= and
# vdisk.partition=).  Runs until it has done so.
. /lib/dracut-lib.sh

[ -b /dev/mapper/vdiskroot ] && exit 0
spec=$(getarg vdisk.root=)
dev=${spec%%:*} path=${spec#*:}
case $dev in
LABEL=*) dev=/dev/disk/by-label/${dev#LABEL=} ;;
UUID=*) dev=/dev/disk/by-uuid/${dev#UUID=} ;;
PARTUUID=*) dev=/dev/disk/by-partuuid/${dev#PARTUUID=} ;;
esac
[ -b "$dev" ] || exit 0		# not yet: the queue runs us again

modprobe -q dm-vdisk
modprobe -q dm-snapshot
mkdir -p /run/vdisk/host
if ! ismounted /run/vdisk/host && ! mount -o ro "$dev" /run/vdisk/host; then
    die "vdisk: cannot mount $dev, which holds $path"
fi
img=/run/vdisk/host/${path#/}
[ -e "$img" ] || die "vdisk: $path not found on $dev"

overlay=$(getarg vdisk.overlay=)
part=$(getarg vdisk.partition=)
set --
[ "${overlay:-ram}" != none ] && set -- "$@" --overlay "${overlay:-ram}"
[ -n "$part" ] && set -- "$@" --partition "$part"
info "vdisk: mapping $path"
/sbin/vdisk create vdiskroot "$img" "$@" ||
    die "vdisk: cannot map $path (the reason is above)"
