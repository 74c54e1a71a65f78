#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dracut initqueue job: once the file system holding the image is there,
# mount it read-only on /run/initramfs/vdisk/host (/run/vdisk/host links
# there; systemd leaves /run/initramfs alone at shutdown, and the image's
# loop device keeps it busy until then) and map the image as
# /dev/mapper/vdiskroot (see vdisk(8) for vdisk.overlay=, vdisk.partition=
# and vdisk.allow=PATH[,PATH...]).  Runs until it has done so.
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
host=/run/initramfs/vdisk/host
mkdir -p "$host" /run/vdisk
[ -L /run/vdisk/host ] || ln -s ../initramfs/vdisk/host /run/vdisk/host
if ! ismounted "$host"; then
    # Name the type, as for the root: not every mount probes, and the file
    # system's module may not be loaded yet.
    fstype=$(blkid -o value -s TYPE "$dev")
    [ -n "$fstype" ] || exit 0	# udev has not probed it yet: run again
    modprobe -q "$fstype"
    mount -r -t "$fstype" "$dev" "$host" ||
        die "vdisk: cannot mount $dev ($fstype), which holds $path"
fi
img=$host/${path#/}
[ -e "$img" ] || die "vdisk: $path not found on $dev"

overlay=$(getarg vdisk.overlay=)
part=$(getarg vdisk.partition=)
set --
[ "${overlay:-ram}" != none ] && set -- "$@" --overlay "${overlay:-ram}"
[ -n "$part" ] && set -- "$@" --partition "$part"
# Only when asked for: a helper without --allow still boots the rest.
allow=$(getarg vdisk.allow=)
if [ -n "$allow" ]; then
    oldifs=$IFS IFS=,
    set -f
    for a in $allow; do
        set -- "$@" --allow "$a"
    done
    IFS=$oldifs
    set +f
fi
info "vdisk: mapping $path"
/sbin/vdisk create vdiskroot "$img" "$@" ||
    die "vdisk: cannot map $path (the reason is above)"
