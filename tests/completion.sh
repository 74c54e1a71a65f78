#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bash completion (packaging/bash-completion/vdisk) run as bash runs it
# for a user pressing Tab: commands, options, formats, files.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
echo "TAP version 13"

# complete LINE: what Tab offers at the end of LINE, one line, sorted.
complete_line()
{
	bash -c '
		. /usr/share/bash-completion/bash_completion
		. packaging/bash-completion/vdisk
		COMP_LINE=$1
		read -ra COMP_WORDS <<<"$COMP_LINE"
		[ "${COMP_LINE: -1}" = " " ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_POINT=${#COMP_LINE}
		_vdisk
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ "$1"
}

check()
{
	got=$(complete_line "$1")
	result "$([ "$got" = "$2" ]; echo $?)" "completion of \"$1\": $2"
	[ "$got" = "$2" ] || echo "# got: $got"
}

check "vdisk cr" "create "
check "vdisk u" "umount "
check "vdisk create x y --no-p" "--no-parent --no-partitions "
check "vdisk info --format qc" "qcow qcow2 "
check "vdisk info --format pa" "parallels "
check "vdisk list " "--json "
printf '# images\nweb /vms/web.vmdk nofail\n\nwin /vms/win.vhdx\n' >/tmp/vdisktab.comp
VDISKTAB=/tmp/vdisktab.comp check "vdisk attach w" "web win "
VDISKTAB=/tmp/vdisktab.comp check "vdisk at" "attach "
rm -f /tmp/vdisktab.comp
check "vdisk check tests/lib/mkim" "tests/lib/mkimages.py "
tap_end
