#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# dracut module: boot with the root file system inside a VMDK, VHDX or QCOW2
# image (vdisk.root=, as for initramfs-tools; see vdisk(8)).

check() {
    require_binaries "${VDISK_BIN:-vdisk}" || return 1
    # Only when asked for (dracut --add vdisk, or add_dracutmodules+=).
    return 255
}

depends() {
    echo dm rootfs-block
}

installkernel() {
    # VDISK_KO: a module built in a source tree rather than installed (tests).
    if [ -n "${VDISK_KO:-}" ]; then
        inst_simple "$VDISK_KO" "/lib/modules/$kernel/updates/dm-vdisk.ko"
        # What an installed module would bring along (libcrc32c, ...).
        hostonly='' instmods dm-mod dm-bufio $(modinfo -F depends "$VDISK_KO" | tr , ' ')
    else
        hostonly='' instmods dm-vdisk
    fi
    hostonly='' instmods dm-snapshot loop
    # Which file system will hold the image is not known now (hostonly
    # mode adds only this system's own): the usual ones.
    hostonly='' instmods -o ext4 xfs btrfs vfat exfat
}

install() {
    inst_binary "${VDISK_BIN:-$(command -v vdisk)}" /sbin/vdisk
    inst_multiple mkdir mount blkid ln
    inst_hook cmdline 90 "$moddir/parse-vdisk.sh"
    inst_script "$moddir/vdisk-root.sh" /sbin/vdisk-root
}
