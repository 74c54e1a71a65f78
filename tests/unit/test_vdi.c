// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the VDI decoder: the header field by field against what
 * qemu accepts, the disk size rounding, and block map entries.
 */
#include "vdi.h"
#include "tap.h"

#define DEV 100000ULL	/* sectors: room for 48 blocks after the map */

static u8 buf[512];

static void put32(unsigned int off, u32 v)
{
	*(__le32 *)(buf + off) = cpu_to_le32(v);
}

/* A 40 MiB dynamic image laid out as qemu-img writes it. */
static void good(void)
{
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "<<< QEMU VM Virtual Disk Image >>>\n", 35);
	put32(0x40, VDI_SIGNATURE);
	put32(0x44, VDI_VERSION_1_1);
	put32(0x48, 0x180);
	put32(0x4c, VDI_TYPE_NORMAL);
	put32(0x154, 512);
	put32(0x158, 1024);
	put32(0x168, 512);
	*(__le64 *)(buf + 0x170) = cpu_to_le64(40ULL << 20);
	put32(0x178, 1U << 20);
	put32(0x180, 40);
	buf[0x188] = 0x11;	/* creation UUID */
}

static int parse(struct vdi *v)
{
	const char *why = NULL;
	int r = vdi_parse_header(buf, DEV, v, &why);

	if (r && !why)
		return -1000;	/* a refusal must say why */
	return r;
}

static void field(unsigned int off, u32 val, int want, const char *desc)
{
	struct vdi v;

	good();
	put32(off, val);
	tap_is(parse(&v), want, desc);
}

int main(void)
{
	struct vdi v;
	u64 sec = 0;

	printf("TAP version 13\n");
	good();
	tap_is(parse(&v), 0, "qemu-img's layout accepted");
	tap_ok(v.capacity == 40 * 2048 && v.blocks == 40 && v.bmap_pos == 512 &&
	       v.data_sector == 2 && v.type == VDI_TYPE_NORMAL && v.uuid_create[0] == 0x11,
	       "fields decoded");

	field(0x40, 0xbeda107e, -EINVAL, "bad signature refused");
	field(0x44, 0x00010000, -EOPNOTSUPP, "version 1.0 refused");
	field(0x4c, VDI_TYPE_FIXED, 0, "fixed image accepted");
	field(0x4c, VDI_TYPE_UNDO, -EOPNOTSUPP, "undo image refused");
	field(0x4c, 9, -EOPNOTSUPP, "unknown image type refused");
	field(0x4c, VDI_TYPE_DIFF, -EINVAL, "differencing image without link UUID refused");
	field(0x168, 4096, -EOPNOTSUPP, "4096-byte sectors refused");
	field(0x178, 2U << 20, -EOPNOTSUPP, "2 MiB blocks refused (as qemu)");
	field(0x178, 1U << 19, -EOPNOTSUPP, "512 KiB blocks refused (as qemu)");
	field(0x17c, 512, -EOPNOTSUPP, "block_extra refused");
	field(0x154, 0x300, -EOPNOTSUPP, "unaligned block map refused (as qemu)");
	field(0x158, 0x401, -EOPNOTSUPP, "unaligned data offset refused (as qemu)");
	field(0x154, 0, -EINVAL, "block map over the header refused");
	field(0x154, DEV * 512, -EINVAL, "block map past the end refused");
	field(0x158, 0, -EINVAL, "data over the header refused");
	field(0x180, 39, -EINVAL, "disk larger than the block map covers refused");
	field(0x180, 0x40000000, -EFBIG, "over 0x3fffffff blocks refused");
	field(0x180, 0x3fffffff, -EINVAL, "0x3fffffff blocks: the map is past the end");

	good();
	*(__le64 *)(buf + 0x170) = cpu_to_le64((40ULL << 20) - 100);
	tap_is(parse(&v), 0, "disk size not a sector multiple accepted");
	tap_is(v.capacity, 40ULL * 2048, "... rounded up, as qemu");
	good();
	*(__le64 *)(buf + 0x170) = 0;
	tap_is(parse(&v), -EINVAL, "zero disk size refused");
	good();
	*(__le64 *)(buf + 0x170) = cpu_to_le64(1ULL << 62);
	tap_is(parse(&v), -EFBIG, "absurd disk size refused");
	good();
	buf[0x1a8] = 1;
	tap_is(parse(&v), -EINVAL, "link UUID in a normal image refused (as qemu)");
	good();
	buf[0x1b8] = 1;
	tap_is(parse(&v), -EINVAL, "parent modify UUID in a normal image refused (as qemu)");
	good();
	put32(0x4c, VDI_TYPE_DIFF);
	buf[0x1a8] = 0x22;
	tap_is(parse(&v), 0, "differencing image with a link UUID accepted");
	tap_ok(v.type == VDI_TYPE_DIFF && v.uuid_link[0] == 0x22, "... link UUID kept");

	good();
	parse(&v);
	tap_is(vdi_decode_entry(&v, VDI_BLOCK_FREE, &sec), VDISK_UNALLOCATED,
	       "0xffffffff: free (parent or zeros)");
	tap_is(vdi_decode_entry(&v, VDI_BLOCK_ZERO, &sec), VDISK_ZERO,
	       "0xfffffffe: zero block");
	tap_is(vdi_decode_entry(&v, 0, &sec), VDISK_DATA, "index 0");
	tap_is(sec, 2, "... at the data offset");
	tap_is(vdi_decode_entry(&v, 39, &sec), VDISK_DATA, "last index");
	tap_is(sec, 2 + 39 * 2048, "... 39 blocks on");
	tap_is(vdi_decode_entry(&v, 40, &sec), VDISK_CORRUPT, "index past the block count");
	tap_is(vdi_decode_entry(&v, 0xfffffffd, &sec), VDISK_CORRUPT, "0xfffffffd is corrupt");
	v.dev_sectors = 2 + 39 * 2048 + 2047;
	tap_is(vdi_decode_entry(&v, 39, &sec), VDISK_CORRUPT,
	       "block that ends past the device is corrupt");
	return tap_done();
}
