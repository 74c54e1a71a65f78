// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the VHD decoder: footer checksum and disk types, qemu's
 * rule for the virtual size, the dynamic header's limits, BAT entries, and
 * a differencing disk's sector bitmap read a word at a time.
 */
#include "vhd.h"
#include "tap.h"

#define MiB BIT_ULL(20)
#define DEV (64 * MiB)

static u8 img[DEV];

static void footer(u8 *f, u32 type, const char *app, u16 c, u8 h, u8 s, u64 size)
{
	struct vhd_footer *ft = (struct vhd_footer *)f;

	memset(f, 0, VHD_FOOTER_BYTES);
	memcpy(ft->cookie, "conectix", 8);
	ft->data_offset = (__force __be64)htobe64(type == VHD_TYPE_FIXED ? ~0ULL : 512);
	memcpy(ft->creator_app, app, 4);
	ft->current_size = (__force __be64)htobe64(size);
	ft->cylinders = (__force __be16)htobe16(c);
	ft->heads = h;
	ft->sectors_per_track = s;
	ft->disk_type = (__force __be32)htobe32(type);
	ft->checksum = (__force __be32)htobe32(vhd_checksum(f, VHD_FOOTER_BYTES, 64));
}

static void dyn(u8 *b, u64 bat, u32 entries, u32 bs)
{
	struct vhd_dyn_header *h = (struct vhd_dyn_header *)b;

	memset(b, 0, VHD_DYN_HEADER_BYTES);
	memcpy(h->cookie, "cxsparse", 8);
	h->table_offset = (__force __be64)htobe64(bat);
	h->max_table_entries = (__force __be32)htobe32(entries);
	h->block_size = (__force __be32)htobe32(bs);
	h->checksum = (__force __be32)htobe32(vhd_checksum(b, VHD_DYN_HEADER_BYTES, 36));
}

static int mem_read(void *ctx, u64 pos, void *buf, unsigned int len)
{
	if (pos > DEV || len > DEV - pos)
		return -EIO;
	memcpy(buf, img + pos, len);
	return 0;
}

static int parse(u32 type, const char *app, u16 c, u8 h, u8 s, u64 size, bool at_end,
		 struct vhd *v)
{
	const char *why;
	u8 f[VHD_FOOTER_BYTES];

	footer(f, type, app, c, h, s, size);
	return vhd_parse_footer(f, at_end, DEV, v, &why);
}

int main(void)
{
	struct vdisk_mapping m;
	const char *why;
	struct vhd v;
	u8 f[VHD_FOOTER_BYTES], h[VHD_DYN_HEADER_BYTES];
	u64 sec = 0;
	u32 i;

	/* Checksum: one's complement of the byte sum without its own field. */
	memset(f, 0, sizeof(f));
	f[0] = 1;
	f[511] = 2;
	f[64] = 0xff;
	tap_is(vhd_checksum(f, sizeof(f), 64), ~3U, "checksum leaves its own field out");

	/* The size rule, both ways. */
	tap_is(parse(VHD_TYPE_DYNAMIC, "qemu", 302, 4, 17, 10 * MiB, false, &v), 0,
	       "qemu dynamic footer parses");
	tap_is(v.capacity, 302 * 4 * 17, "qemu: size from CHS geometry");
	parse(VHD_TYPE_DYNAMIC, "vpc ", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 302 * 4 * 17, "vpc: size from CHS geometry");
	parse(VHD_TYPE_DYNAMIC, "win ", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 10 * MiB / 512, "win: size from current_size");
	parse(VHD_TYPE_DYNAMIC, "qem2", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 10 * MiB / 512, "qem2 (force_size): current_size");
	parse(VHD_TYPE_DYNAMIC, "d2v ", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 10 * MiB / 512, "d2v: current_size");
	parse(VHD_TYPE_DYNAMIC, "CTXS", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 10 * MiB / 512, "CTXS: current_size");
	parse(VHD_TYPE_DYNAMIC, "tap", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 10 * MiB / 512, "tap\\0: current_size");
	parse(VHD_TYPE_DYNAMIC, "tap ", 302, 4, 17, 10 * MiB, false, &v);
	tap_is(v.capacity, 302 * 4 * 17, "tap with a space: CHS");
	parse(VHD_TYPE_DYNAMIC, "qemu", 65535, 16, 255, 5 * MiB, false, &v);
	tap_is(v.capacity, 5 * MiB / 512, "largest geometry: current_size whoever wrote it");
	tap_is(parse(VHD_TYPE_DYNAMIC, "win ", 0, 0, 0, (VHD_MAX_SECTORS + 1) * 512, false,
		     &v), -EFBIG, "over 2040 GiB refused");

	/* Types: a footer at the end is a fixed disk's, at 0 a dynamic one's. */
	tap_is(parse(VHD_TYPE_DYNAMIC, "qemu", 302, 4, 17, 0, true, &v), -EINVAL,
	       "dynamic footer at the end refused");
	tap_is(parse(VHD_TYPE_FIXED, "qemu", 302, 4, 17, 0, false, &v), -EINVAL,
	       "fixed footer at offset 0 refused");
	tap_is(parse(5, "qemu", 302, 4, 17, 0, false, &v), -EINVAL, "disk type 5 refused");
	tap_is(parse(VHD_TYPE_FIXED, "win ", 0, 0, 0, DEV - 512, true, &v), 0,
	       "fixed disk as large as the file before its footer");
	tap_is(parse(VHD_TYPE_FIXED, "win ", 0, 0, 0, DEV, true, &v), -EINVAL,
	       "fixed disk larger than the file refused");
	footer(f, VHD_TYPE_DYNAMIC, "qemu", 302, 4, 17, 0);
	f[100] ^= 1;
	tap_is(vhd_parse_footer(f, false, DEV, &v, &why), -EINVAL, "bad footer checksum refused");

	/* Dynamic header. */
	parse(VHD_TYPE_DYNAMIC, "win ", 0, 0, 0, 8 * MiB, false, &v);
	dyn(h, 1536, 4, 2 * MiB);
	tap_is(vhd_parse_dyn_header(h, &v, &why), 0, "dynamic header parses");
	tap_is(v.bitmap_bytes, 512, "2 MiB blocks: 512-byte bitmap");
	tap_is(v.block_shift, 12, "2 MiB blocks: 4096 sectors");
	dyn(h, 1536, 16384, 512);
	tap_is(vhd_parse_dyn_header(h, &v, &why), 0, "512-byte blocks parse");
	tap_is(v.bitmap_bytes, 0, "512-byte blocks: no bitmap, as qemu lays them out");
	dyn(h, 1536, 3, 2 * MiB);
	tap_is(vhd_parse_dyn_header(h, &v, &why), -EINVAL, "BAT too small for the disk refused");
	dyn(h, 1536, 4, 3 * MiB);
	tap_is(vhd_parse_dyn_header(h, &v, &why), -EINVAL, "block size 3 MiB refused");
	dyn(h, 1536, 64, 256);
	tap_is(vhd_parse_dyn_header(h, &v, &why), -EINVAL, "block size 256 refused");
	dyn(h, 1537, 4, 2 * MiB);
	tap_is(vhd_parse_dyn_header(h, &v, &why), -EINVAL, "misaligned BAT refused");
	dyn(h, 1536, 0x7fffffff, 2 * MiB);
	tap_is(vhd_parse_dyn_header(h, &v, &why), -EINVAL, "BAT past the end of the file refused");
	dyn(h, 1536, 4, 2 * MiB);
	h[200] ^= 1;
	tap_is(vhd_parse_dyn_header(h, &v, &why), -EINVAL, "bad dynamic header checksum refused");

	/* BAT entries. */
	dyn(h, 1536, 4, 2 * MiB);
	vhd_parse_dyn_header(h, &v, &why);
	tap_is(vhd_decode_bat(&v, VHD_BAT_UNALLOCATED, &sec), VDISK_UNALLOCATED,
	       "0xffffffff is unallocated");
	tap_is(vhd_decode_bat(&v, 8, &sec), VDISK_DATA, "a block inside the file");
	tap_is(sec, 9, "its data follows its bitmap");
	tap_is(vhd_decode_bat(&v, (DEV - 2 * MiB - 512) / 512, &sec), VDISK_DATA,
	       "a block ending at the end of the file");
	tap_is(vhd_decode_bat(&v, (DEV - 2 * MiB) / 512, &sec), VDISK_CORRUPT,
	       "a block running past the end of the file is corrupt");

	/* The bitmap, a word at a time, top bit first. */
	vhd_bitmap_run(0xf000000000000000ULL, 0, &m);
	tap_ok(m.state == VDISK_DATA && m.run == 4, "bits 0-3 set: 4 sectors of the block");
	vhd_bitmap_run(0xf000000000000000ULL, 4, &m);
	tap_ok(m.state == VDISK_UNALLOCATED && m.run == 60, "bits 4-63 clear: the parent");
	vhd_bitmap_run(~0ULL, 63, &m);
	tap_ok(m.state == VDISK_DATA && m.run == 1, "last bit: one sector");
	vhd_bitmap_run(0, 10, &m);
	tap_ok(m.state == VDISK_UNALLOCATED && m.run == 54, "no bit set: to the word's end");
	vhd_bitmap_run(0x00ff000000000000ULL, 2, &m);
	tap_ok(m.state == VDISK_UNALLOCATED && m.run == 6, "a clear run up to the first set bit");

	/* A differencing disk mapped through its BAT and bitmap. */
	memset(img, 0, sizeof(img));
	parse(VHD_TYPE_DIFFERENCING, "win ", 0, 0, 0, 4 * MiB, false, &v);
	dyn(h, 1536, 2, 2 * MiB);
	vhd_parse_dyn_header(h, &v, &why);
	for (i = 0; i < 2; i++)
		*(__be32 *)(img + 1536 + 4 * i) = (__force __be32)htobe32(i ? 4 : ~0U);
	img[4 * 512] = 0xa0;		/* sectors 0 and 2 of block 1 */
	img[4 * 512 + 8] = 0x80;	/* sector 64 */
	tap_is(vhd_map(&v, 5, mem_read, NULL, &m), 0, "maps an unallocated block");
	tap_is(m.state, VDISK_UNALLOCATED, "unallocated block: the parent");
	vhd_map(&v, 4096, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 5 && m.run == 1,
	       "bitmap bit 0 set: sector 0 of the block, one sector");
	vhd_map(&v, 4097, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_UNALLOCATED && m.run == 1, "bit 1 clear: the parent");
	vhd_map(&v, 4098, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 7, "bit 2 set: the block");
	vhd_map(&v, 4096 + 64, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 5 + 64, "bit 64, in the second word");
	v.type = VHD_TYPE_DYNAMIC;
	vhd_map(&v, 4097, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 6 && !m.run,
	       "a dynamic disk reads the whole block, bitmap or not");
	tap_is(vhd_map(&v, 8192, mem_read, NULL, &m), 0, "past the BAT maps");
	tap_is(m.state, VDISK_CORRUPT, "... as corrupt");
	return tap_done();
}
