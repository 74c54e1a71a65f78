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

# tap_relay PREFIX FILE: each result of a guest's TAP in FILE as one of
# ours, named "PREFIX: ...", its other lines as diagnostics; then a result
# saying whether it ran all it planned.
tap_relay()
{
	local line ran=0 plan=

	while IFS= read -r line; do
		if [[ $line =~ ^(not )?ok\ [0-9]+\ (.*)$ ]]; then
			ran=$((ran + 1))
			result "$([ -z "${BASH_REMATCH[1]}" ]; echo $?)" "$1: ${BASH_REMATCH[2]}"
		elif [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
		elif [[ $line != "TAP version"* ]]; then
			echo "# $line"
		fi
	done <"$2"
	result "$([ "${plan:-x}" = "$ran" ]; echo $?)" \
		"$1: the guest ran all it planned ($ran of ${plan:-none})"
}

tap_end()
{
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
