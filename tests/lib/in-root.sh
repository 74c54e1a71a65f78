# SPDX-License-Identifier: GPL-2.0
# in_root ROOT COMMAND: run COMMAND (a shell line) chrooted in ROOT, with
# /proc, /sys and /dev bound in, as apt and DKMS need; the binds go again
# whatever COMMAND does.  Returns COMMAND's status.
in_root()
{
	local root=$1 d st
	shift
	for d in proc sys dev dev/pts; do
		mount --bind "/$d" "$root/$d"
	done
	DEBIAN_FRONTEND=noninteractive chroot "$root" sh -c "$1"
	st=$?
	for d in dev/pts dev sys proc; do
		umount "$root/$d"
	done
	return $st
}
