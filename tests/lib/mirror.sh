#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the URL of the Debian archive this machine's apt uses: the first
# URI that serves SUITE, by default the host's own release (deb822 .sources
# files first, then one-line sources.list files).  Never a host name
# written down here.  Source it for debian_mirror [SUITE], or run it.

debian_mirror()
{
	local suite=${1:-} f

	[ -n "$suite" ] || suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$suite" ] || return 1
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v s="$suite" '
				/^[ \t]*$/ { u = ""; ok = 0 }
				/^URIs:/ { u = $2 }
				/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
				ok && u != "" { print u; exit }' "$f"
		done
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			sed 's/\[[^]]*\]//' |
			awk -v s="$suite" '$1 == "deb" && $3 == s { print $2 }'
	} | head -n 1 | grep . || {
		echo "mirror.sh: no $suite mirror in the apt sources" >&2
		return 1
	}
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	debian_mirror "$@"
fi
