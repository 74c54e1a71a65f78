#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The systemd generator (vdisk generate) on a vdisktab(5) and an fstab:
# the drop-ins and links it makes for each line, the ordering each option
# asks for, and one clear message for each wrong line, which still gets
# its unit (to fail alone at boot).  The boot test runs it under systemd.  TAP.
set -u
cd "$(dirname "$0")/.."
. tests/lib/tap.sh
VDISK=$PWD/tools/vdisk
OUT=$PWD/tests/out/vdisktab
echo "TAP version 13"
rm -rf "$OUT"
mkdir -p "$OUT"
cd "$OUT" || exit 1

cat >tab <<'EOF'
# name   image                  options
data     /images/data.vhdx      nofail,allow=/srv/base
inner	/srv/data/inner.qcow2	no-partitions,overlay=/var/lib/ov/inner.cow
late-x   /mnt/100%/x.vmdk       _netdev,format=vmdk
manual   /images/m.qcow2        noauto

bogus    /images/data.vhdx      frobnicate
bad/name /x
data     /dup.vmdk
short
EOF
cat >fstab <<'EOF'
/dev/mapper/datap1  /srv/data ext4 ro 0 2
/dev/mapper/datap12 /x ext4 ro 0 2
/dev/mapper/databad /y ext4 ro 0 2
/dev/mapper/inner   /srv/inner ext4 ro 0 2
EOF

VDISKTAB=$OUT/tab SYSTEMD_FSTAB=$OUT/fstab "$VDISK" generate gen early late 2>err
result $? "generate: exits 0 although some lines are wrong"

# has FILE LINE: FILE holds LINE, whole.
has()
{
	grep -qxF -- "$2" "gen/$1"
}

conf=vdisk@data.service.d/vdisktab.conf
has $conf "RequiresMountsFor=/images/data.vhdx"
result $? "data: its unit waits for the image's file system"
has $conf "Before=blockdev@dev-mapper-datap1.target" &&
	has $conf "Before=blockdev@dev-mapper-datap12.target" &&
	has $conf "Before=blockdev@dev-mapper-data.target"
result $? "data: ordered before the disk and the partitions fstab mounts"
[ -L gen/dev-mapper-datap1.device.requires/vdisk@data.service ] &&
	[ -L gen/dev-mapper-data.device.requires/vdisk@data.service ]
result $? "data: mounting /dev/mapper/datap1 pulls in vdisk@data.service"
[ ! -e gen/dev-mapper-databad.device.requires ]
result $? "data: /dev/mapper/databad (not a partition name) is not taken for one"
! has $conf "Before=local-fs.target" && [ -L gen/local-fs.target.wants/vdisk@data.service ]
result $? "data: nofail: started at boot, but local-fs.target does not wait for it"
has $conf "SourcePath=$OUT/tab"
result $? "data: the drop-in names its source"

conf=vdisk@inner.service.d/vdisktab.conf
has $conf "Before=local-fs.target" && has $conf "RequiresMountsFor=/var/lib/ov/inner.cow"
result $? "inner: a tab-separated line; local-fs.target waits; the overlay's file system too"

conf=vdisk@late-x.service.d/vdisktab.conf
has $conf "RequiresMountsFor=/mnt/100%%/x.vmdk"
result $? "late-x: a % in the path is escaped for systemd"
[ -L gen/remote-fs.target.wants/vdisk@late-x.service ] && has $conf "Before=remote-fs.target" &&
	[ ! -e gen/local-fs.target.wants/vdisk@late-x.service ]
result $? "late-x: _netdev: started with the remote file systems"
[ -L 'gen/dev-mapper-late\x2dx.device.requires/vdisk@late-x.service' ]
result $? "late-x: the device unit's name escapes \"-\" as systemd does"

conf=vdisk@manual.service.d/vdisktab.conf
[ -f gen/$conf ] && ! grep -rq manual gen/*.target.wants
result $? "manual: noauto: a unit, started by nothing"

[ -f gen/vdisk@bogus.service.d/vdisktab.conf ] && [ -L gen/local-fs.target.wants/vdisk@bogus.service ] &&
	! has vdisk@bogus.service.d/vdisktab.conf "Before=local-fs.target"
result $? "bogus: a wrong option still gets its unit, which boot does not wait for"
[ ! -e gen/vdisk@short.service.d/vdisktab.conf ] || ! grep -q Before=local-fs gen/vdisk@short.service.d/vdisktab.conf
result $? "short: a line without an image: boot does not wait for it"
! grep -rq dup.vmdk gen && [ "$(ls -d gen/vdisk@*.service.d | wc -l)" = 6 ]
result $? "a second line for a name and a line with a bad name make no unit"

cat >want <<EOF
vdisk: $OUT/tab:7 (bogus): unknown option "frobnicate"
vdisk: $OUT/tab:8: "bad/name" is not a name for a device (letters, digits, _ . : -)
vdisk: $OUT/tab:9 (data): a second line for data: ignored
vdisk: $OUT/tab:10 (short): no image
EOF
diff want err >/dev/null
result $? "one line for each wrong line, naming the file, the line and the name"
[ $? -eq 0 ] || sed 's/^/# /' err

VDISKTAB=$OUT/none "$VDISK" generate gen2 gen2 gen2 2>err
result "$([ $? -eq 0 ] && [ ! -e gen2 ] && [ ! -s err ]; echo $?)" \
	"no vdisktab: nothing made, nothing said"
printf 'x /a.vmdk\n' >tab2
: >notdir
VDISKTAB=$OUT/tab2 "$VDISK" generate notdir/x notdir notdir 2>err
st=$?
result "$([ $st -ne 0 ] && grep -q 'cannot make folder' err; echo $?)" \
	"a folder that cannot be made: the generator fails, saying where"
tap_end
