# SPDX-License-Identifier: GPL-2.0
# TAP for the host-side test scripts (bash): result STATUS DESCRIPTION for
# each test, tap_end last (prints the plan, fails if any test did).
n=0 failed=0

result()
{
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}

tap_end()
{
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
