#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# dracut cmdline hook: with vdisk.root=DEVICE:PATH the root is the image's
# disk (or partition), /dev/mapper/vdiskroot, mapped by /sbin/vdisk-root
# once DEVICE shows up.
vdisk_root=$(getarg vdisk.root=)
if [ -n "$vdisk_root" ]; then
    case $vdisk_root in
    *:*) ;;
    *) die "vdisk: vdisk.root=$vdisk_root: expected DEVICE:PATH" ;;
    esac
    root=block:/dev/mapper/vdiskroot
    rootok=1
    /sbin/initqueue --settled --unique --name vdisk-root /sbin/vdisk-root
    wait_for_dev /dev/mapper/vdiskroot
fi
