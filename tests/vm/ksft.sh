# SPDX-License-Identifier: GPL-2.0
# kselftest-style TAP for guest scripts (busybox sh).  run-guest.sh copies
# this file next to the data disk's run script as ksft.sh.
KTAP_N=0
KTAP_FAIL=0

ktap_ok()
{
	KTAP_N=$((KTAP_N + 1))
	echo "ok $KTAP_N $1"
}

ktap_fail()
{
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_N $1"
}

ktap_skip()
{
	KTAP_N=$((KTAP_N + 1))
	echo "ok $KTAP_N $1 # SKIP $2"
}

# ktap_result STATUS DESC: pass when STATUS is 0.
ktap_result()
{
	if [ "$1" = 0 ]; then ktap_ok "$2"; else ktap_fail "$2"; fi
}

ktap_diag()
{
	echo "# $*"
}

ktap_plan_end()
{
	echo "1..$KTAP_N"
}

ktap_finish()
{
	[ "$KTAP_FAIL" -eq 0 ] && exit 0
	exit 1
}
