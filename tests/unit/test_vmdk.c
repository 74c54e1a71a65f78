// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the VMDK decoder: hand-made headers, each field at and past
 * its limits, table entries at the device's edges, and descriptors.
 */
#include <stdlib.h>

#include "tap.h"
#include "vmdk.h"
#include "vmdk_desc.h"

#define DEV_SECTORS 4096ULL	/* a 2 MiB image file */

/* What qemu-img create -f vmdk writes for a 64 MiB disk. */
static void good_header(struct vmdk4_header *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = cpu_to_le32(VMDK4_MAGIC);
	h->version = cpu_to_le32(1);
	h->flags = cpu_to_le32(VMDK4_FLAG_NL_DETECT | VMDK4_FLAG_RGD);
	h->capacity = cpu_to_le64(131072);
	h->grain_size = cpu_to_le64(128);
	h->desc_offset = cpu_to_le64(1);
	h->desc_size = cpu_to_le64(20);
	h->num_gtes_per_gt = cpu_to_le32(512);
	h->rgd_offset = cpu_to_le64(21);
	h->gd_offset = cpu_to_le64(30);
	h->overhead = cpu_to_le64(128);
	memcpy(h->nl_check, "\n \r\n", 4);
}

static int parse(const struct vmdk4_header *h, struct vmdk_sparse *vs)
{
	const char *why = NULL;
	int r = vmdk4_parse_header(h, DEV_SECTORS, vs, &why);

	if (r && !why)
		printf("# error without a reason\n");
	return r;
}

typedef void (*mutate_fn)(struct vmdk4_header *h);

static void expect(mutate_fn fn, int err, const char *desc)
{
	struct vmdk4_header h;
	struct vmdk_sparse vs;

	good_header(&h);
	fn(&h);
	tap_is(parse(&h, &vs), err, desc);
}

#define MUT(name, body) static void name(struct vmdk4_header *h) { body; }
MUT(m_magic, h->magic = cpu_to_le32(0x4b444d56))
MUT(m_ver0, h->version = cpu_to_le32(0))
MUT(m_ver3, h->version = cpu_to_le32(3))
MUT(m_ver4, h->version = cpu_to_le32(4))
MUT(m_nl, h->nl_check[2] = '\n')
MUT(m_nl_off, h->nl_check[2] = '\n'; h->flags = cpu_to_le32(VMDK4_FLAG_RGD))
MUT(m_grain0, h->grain_size = 0)
MUT(m_grain3, h->grain_size = cpu_to_le64(3))
MUT(m_grain1, h->grain_size = cpu_to_le64(1); h->capacity = cpu_to_le64(4096))
MUT(m_grain_max, h->grain_size = cpu_to_le64(1ULL << 21))
MUT(m_grain_big, h->grain_size = cpu_to_le64(1ULL << 22))
MUT(m_gtes0, h->num_gtes_per_gt = 0)
MUT(m_gtes513, h->num_gtes_per_gt = cpu_to_le32(513))
MUT(m_gtes4096, h->num_gtes_per_gt = cpu_to_le32(4096))
MUT(m_gtes8192, h->num_gtes_per_gt = cpu_to_le32(8192))
MUT(m_cap0, h->capacity = 0)
MUT(m_cap_huge, h->capacity = cpu_to_le64(1ULL << 60))
/* 64 KiB grains, 512 GTEs: 32 MiB of GD covers 2^39 sectors exactly. */
MUT(m_cap_gdmax, h->capacity = cpu_to_le64(1ULL << 39); h->gd_offset = cpu_to_le64(1))
MUT(m_cap_gdover, h->capacity = cpu_to_le64((1ULL << 39) + 1))
MUT(m_gd0, h->gd_offset = 0)
MUT(m_gd_end, h->gd_offset = cpu_to_le64(DEV_SECTORS))
MUT(m_gd_last, h->gd_offset = cpu_to_le64(DEV_SECTORS - 1))
MUT(m_gd_stream, h->gd_offset = cpu_to_le64(VMDK4_GD_AT_END))
MUT(m_rgd_end, h->rgd_offset = cpu_to_le64(DEV_SECTORS))
MUT(m_rgd_noflag, h->rgd_offset = cpu_to_le64(~0ULL); h->flags = 0)
MUT(m_compress, h->flags |= cpu_to_le32(VMDK4_FLAG_COMPRESS))
MUT(m_compress_alg, h->compress_algorithm = cpu_to_le16(1))
MUT(m_stream, h->compress_algorithm = cpu_to_le16(1);
	h->flags |= cpu_to_le32(VMDK4_FLAG_COMPRESS | VMDK4_FLAG_MARKER))
MUT(m_stream_big, m_stream(h); h->grain_size = cpu_to_le64(8192))
MUT(m_compress_alg2, h->compress_algorithm = cpu_to_le16(2))
MUT(m_desc_big, h->desc_size = cpu_to_le64(VMDK_MAX_DESC_SECTORS + 1))
MUT(m_desc_end, h->desc_offset = cpu_to_le64(DEV_SECTORS - 10))
MUT(m_desc_wrap, h->desc_offset = cpu_to_le64(~0ULL - 5))

static void test_header(void)
{
	struct vmdk4_header h;
	struct vmdk_sparse vs;

	good_header(&h);
	tap_is(parse(&h, &vs), 0, "qemu-style header is accepted");
	tap_is(vs.capacity, 131072, "capacity");
	tap_is(vs.grain_shift, 7, "grain shift");
	tap_is(vs.gt_shift, 9, "GT shift");
	tap_is(vs.gd_entries, 2, "GD entries");
	tap_is(vs.rgd_sector, 21, "redundant GD kept when flagged");

	expect(m_magic, -EINVAL, "bad magic refused");
	expect(m_ver0, -EOPNOTSUPP, "version 0 refused");
	expect(m_ver3, 0, "version 3 accepted");
	expect(m_ver4, -EOPNOTSUPP, "version 4 refused");
	expect(m_nl, -EINVAL, "damaged newline check bytes refused");
	expect(m_nl_off, 0, "newline bytes ignored without the flag");
	expect(m_grain0, -EINVAL, "grain size 0 refused");
	expect(m_grain3, -EINVAL, "grain size 3 refused");
	expect(m_grain1, 0, "grain size 1 sector accepted");
	expect(m_grain_max, 0, "1 GiB grains accepted");
	expect(m_grain_big, -EINVAL, "2 GiB grains refused");
	expect(m_gtes0, -EINVAL, "0 GTEs per GT refused");
	expect(m_gtes513, -EINVAL, "513 GTEs per GT refused");
	expect(m_gtes4096, 0, "4096 GTEs per GT accepted");
	expect(m_gtes8192, -EINVAL, "8192 GTEs per GT refused");
	expect(m_cap0, -EOPNOTSUPP, "zero capacity refused");
	expect(m_cap_huge, -EFBIG, "2^60 sector capacity refused");
	expect(m_cap_gdover, -EFBIG, "GD over 32 MiB refused");
	expect(m_gd0, -EINVAL, "GD at sector 0 refused");
	expect(m_gd_end, -EINVAL, "GD past the end refused");
	expect(m_gd_last, 0, "GD in the last sector accepted");
	expect(m_gd_stream, -EINVAL, "GD in footer refused by the header parser");
	expect(m_rgd_end, -EINVAL, "redundant GD past the end refused");
	expect(m_rgd_noflag, 0, "redundant GD ignored without its flag");
	expect(m_compress, -EOPNOTSUPP, "compressed flag without an algorithm refused");
	expect(m_compress_alg, -EOPNOTSUPP, "deflate without grain markers refused");
	expect(m_compress_alg2, -EOPNOTSUPP, "unknown compression algorithm refused");
	expect(m_stream, 0, "deflate with markers accepted");
	expect(m_stream_big, -EOPNOTSUPP, "compressed grains over 2 MiB refused");
	expect(m_desc_big, -EINVAL, "descriptor over 1 MiB refused");
	expect(m_desc_end, -EINVAL, "descriptor past the end refused");
	expect(m_desc_wrap, -EINVAL, "descriptor offset wrapping around refused");

	/* The GD cap is exact: a GD of exactly 32 MiB is fine on a big file. */
	good_header(&h);
	m_cap_gdmax(&h);
	tap_is(vmdk4_parse_header(&h, 1ULL << 20, &vs, &(const char *){ NULL }),
	       0, "GD of exactly 32 MiB accepted");
	tap_is(vs.gd_entries, 8U << 20, "... with 8M entries");
}

static void test_lookup(void)
{
	struct vmdk4_header h;
	struct vmdk_sparse vs;
	u64 pos = 0, sec = 0;

	good_header(&h);
	parse(&h, &vs);

	tap_is(vmdk_gd_index(&vs, 0), 0, "sector 0 is in GT 0");
	tap_is(vmdk_gd_index(&vs, 65535), 0, "last sector of GT 0");
	tap_is(vmdk_gd_index(&vs, 65536), 1, "first sector of GT 1");
	tap_is(vmdk_gt_index(&vs, 127), 0, "last sector of grain 0");
	tap_is(vmdk_gt_index(&vs, 128), 1, "first sector of grain 1");
	tap_is(vmdk_gt_index(&vs, 65536 + 128 * 511), 511, "last entry of GT 1");

	tap_is(vmdk_gte_pos(&vs, 0, 5, &pos), VDISK_UNALLOCATED, "GDE 0: no grain table");
	tap_is(vmdk_gte_pos(&vs, 40, 5, &pos), VDISK_DATA, "GDE 40 is a grain table");
	tap_is(pos, 40 * 512 + 20, "... entry 5 at byte 20480+20");
	tap_is(vmdk_gte_pos(&vs, DEV_SECTORS - 1, 127, &pos), VDISK_DATA,
	       "entry in the device's last 4 bytes");
	tap_is(vmdk_gte_pos(&vs, DEV_SECTORS - 1, 128, &pos), VDISK_CORRUPT,
	       "entry past the end of the device");
	tap_is(vmdk_gte_pos(&vs, U32_MAX, 0, &pos), VDISK_CORRUPT, "GDE 2^32-1 past the end");
	tap_is(vmdk_gte_pos(&vs, 40, 512, &pos), VDISK_CORRUPT, "index past the GT");

	tap_is(vmdk_decode_gte(&vs, 0, &sec), VDISK_UNALLOCATED, "GTE 0 unallocated");
	tap_is(vmdk_decode_gte(&vs, 1, &sec), VDISK_DATA, "GTE 1 without zeroed grains is data");
	tap_is(vmdk_decode_gte(&vs, 256, &sec), VDISK_DATA, "GTE 256 is data");
	tap_is(sec, 256, "... at sector 256");
	tap_is(vmdk_decode_gte(&vs, DEV_SECTORS - 1, &sec), VDISK_DATA, "grain in the last sector");
	tap_is(vmdk_decode_gte(&vs, DEV_SECTORS, &sec), VDISK_CORRUPT, "grain past the end");
	tap_is(vmdk_decode_gte(&vs, U32_MAX, &sec), VDISK_CORRUPT, "GTE 2^32-1 past the end");

	h.flags |= cpu_to_le32(VMDK4_FLAG_ZERO_GRAIN);
	parse(&h, &vs);
	tap_is(vmdk_decode_gte(&vs, 1, &sec), VDISK_ZERO, "GTE 1 with zeroed grains reads zeros");
	tap_is(vmdk_decode_gte(&vs, 2, &sec), VDISK_DATA, "GTE 2 with zeroed-grain flag is data");

	tap_ok(vdisk_range_ok(10, 5, 15) && !vdisk_range_ok(10, 6, 15) &&
	       !vdisk_range_ok(U64_MAX, 2, U64_MAX) && !vdisk_range_ok(16, 0, 15),
	       "vdisk_range_ok at the edges and on overflow");
}

/* Footer marker, footer, end-of-stream marker, as VMware writes them. */
static void good_tail(u8 *tail)
{
	struct vmdk4_header *f = (struct vmdk4_header *)(tail + 512);
	struct vmdk4_marker *fm = (struct vmdk4_marker *)tail;

	memset(tail, 0, 3 * 512);
	fm->val = cpu_to_le64(1);
	fm->type = cpu_to_le32(VMDK4_MARKER_FOOTER);
	good_header(f);
	m_stream(f);
}

static void test_cowd(void)
{
	struct vmdk3_header h;
	struct vmdk_sparse vs;
	const char *why;
	u8 sector[512];

	memset(&h, 0, sizeof(h));
	h.magic = cpu_to_le32(VMDK3_MAGIC);
	h.version = cpu_to_le32(1);
	h.disk_sectors = cpu_to_le32(81920);
	h.granularity = cpu_to_le32(1);
	h.gd_offset = cpu_to_le32(4);
	h.gd_entries = cpu_to_le32(20);
	memset(sector, 0, sizeof(sector));
	memcpy(sector, &h, sizeof(h));
	tap_is(vmdk_parse_header(sector, DEV_SECTORS, &vs, &why), 0, "COWD header accepted");
	tap_ok(vs.grain_shift == 0 && vs.gt_shift == 12 && vs.gd_entries == 20 &&
	       vs.gd_sector == 4, "COWD: 512-byte grains, 4096-entry tables");
	h.gd_entries = cpu_to_le32(19);
	memcpy(sector, &h, sizeof(h));
	tap_is(vmdk_parse_header(sector, DEV_SECTORS, &vs, &why), -EINVAL,
	       "COWD directory too small for the capacity refused");
	h.gd_entries = cpu_to_le32(20);
	h.granularity = cpu_to_le32(3);
	memcpy(sector, &h, sizeof(h));
	tap_is(vmdk_parse_header(sector, DEV_SECTORS, &vs, &why), -EINVAL,
	       "COWD grain of 3 sectors refused");
	h.granularity = cpu_to_le32(1);
	h.gd_offset = cpu_to_le32(DEV_SECTORS);
	memcpy(sector, &h, sizeof(h));
	tap_is(vmdk_parse_header(sector, DEV_SECTORS, &vs, &why), -EINVAL,
	       "COWD directory past the end refused");
	h.gd_offset = cpu_to_le32(4);
	h.disk_sectors = 0;
	memcpy(sector, &h, sizeof(h));
	tap_is(vmdk_parse_header(sector, DEV_SECTORS, &vs, &why), -EINVAL,
	       "COWD zero capacity refused");
}

static void test_stream(void)
{
	struct vmdk4_header *f;
	struct vmdk_sparse vs;
	const char *why;
	u8 tail[3 * 512], grain[64];
	u32 len = 0;

	good_tail(tail);
	tap_is(vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why), 0, "stream tail accepted");
	tap_ok(vs.compressed && vs.gd_sector == 30, "... compressed, GD from the footer");
	f = (struct vmdk4_header *)(tail + 512);
	f->gd_offset = cpu_to_le64(VMDK4_GD_AT_END);
	tap_is(vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why), -EINVAL,
	       "footer deferring the GD again refused");
	good_tail(tail);
	tail[0] = 0;
	tail[12] = 0;
	tap_is(vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why), -EINVAL,
	       "missing footer marker refused");
	good_tail(tail);
	tail[1024 + 8] = 1;
	tap_is(vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why), -EINVAL,
	       "damaged end-of-stream marker refused");
	good_tail(tail);
	f->compress_algorithm = 0;
	f->flags = cpu_to_le32(VMDK4_FLAG_RGD);
	tap_is(vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why), -EINVAL,
	       "footer of an uncompressed extent refused");
	good_tail(tail);
	memset(tail + 512, 0, 4);
	tap_is(vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why), -EINVAL,
	       "footer without magic refused");

	good_tail(tail);
	vmdk4_parse_tail(tail, DEV_SECTORS, &vs, &why);
	memset(grain, 0, sizeof(grain));
	grain[0] = 0x80;		/* LBA 128 */
	grain[8] = 40;			/* 40 bytes of data */
	tap_is(vmdk_grain_marker(&vs, grain, sizeof(grain), 128, &len, &why), 0,
	       "grain marker accepted");
	tap_is(len, 40, "... with its size");
	tap_is(vmdk_grain_marker(&vs, grain, sizeof(grain), 256, &len, &why), -EIO,
	       "grain marker naming another grain refused");
	tap_is(vmdk_grain_marker(&vs, grain, 11, 128, &len, &why), -EIO,
	       "cut-off grain marker refused");
	grain[8] = 0;
	tap_is(vmdk_grain_marker(&vs, grain, sizeof(grain), 128, &len, &why), -EIO,
	       "empty compressed grain refused");
	grain[8] = 0xf5;		/* 2 * 64 KiB + 512 - 12 + 1 */
	grain[9] = 0x01;
	grain[10] = 0x02;
	tap_is(vmdk_grain_marker(&vs, grain, sizeof(grain), 128, &len, &why), -EIO,
	       "compressed grain larger than the cap refused");
	grain[8] = 0xf4;
	tap_is(vmdk_grain_marker(&vs, grain, sizeof(grain), 128, &len, &why), 0,
	       "compressed grain at the cap accepted");
}

/* A table reader over a buffer, as the tools and fuzzers use it. */
static u8 table[4096];

static int read_table(void *ctx, u64 pos, void *buf, unsigned int len)
{
	if (pos + len > sizeof(table))
		return -EIO;
	memcpy(buf, table + pos, len);
	return 0;
}

static void test_map(void)
{
	struct vmdk4_header h;
	struct vmdk_sparse vs;
	struct vdisk_mapping m;
	__le32 gd[2] = { cpu_to_le32(2), 0 };	/* GT 0 at sector 2 */

	good_header(&h);
	parse(&h, &vs);
	memset(table, 0, sizeof(table));
	*(__le32 *)(table + 1024 + 4) = cpu_to_le32(300);	/* grain 1 */
	tap_is(vmdk_map(&vs, gd, 130, read_table, NULL, &m), 0, "map: grain 1");
	tap_ok(m.state == VDISK_DATA && m.sector == 302, "... is data at sector 302");
	tap_is(vmdk_map(&vs, gd, 5, read_table, NULL, &m), 0, "map: grain 0");
	tap_is(m.state, VDISK_UNALLOCATED, "... is unallocated");
	tap_is(vmdk_map(&vs, gd, 65536 + 7, read_table, NULL, &m), 0, "map: GT 1");
	tap_is(m.state, VDISK_UNALLOCATED, "... is absent, so unallocated");
	vs.compressed = true;
	vmdk_map(&vs, gd, 131, read_table, NULL, &m);
	tap_ok(m.state == VDISK_COMPRESSED && m.sector == 300 && m.offset == 3,
	       "map: compressed grain keeps its marker sector and the offset");
	gd[0] = cpu_to_le32(100);
	tap_is(vmdk_map(&vs, gd, 0, read_table, NULL, &m), -EIO,
	       "map: a failing table read is passed on");
}

static int desc(const char *text, struct vmdk_desc *d, u32 *line)
{
	static struct vmdk_extent_line ext[8];
	const char *why = NULL;

	d->extents = ext;
	d->max_extents = 8;
	return vmdk_parse_descriptor(text, strlen(text), d, line, &why);
}

static void test_descriptor(void)
{
	struct vmdk_desc d;
	u32 line;
	char *big;

	tap_is(desc("# Disk DescriptorFile\nversion=1\nCID=446646e2\nparentCID=ffffffff\n"
		    "createType=\"monolithicSparse\"\n\n# Extent description\n"
		    "RW 131072 SPARSE \"a.vmdk\"\n\n#DDB\nddb.virtualHWVersion = \"4\"\n",
		    &d, &line), 0, "qemu's descriptor parses");
	tap_ok(vmdk_str_eq(d.create_type, "monolithicSparse"), "createType");
	tap_is(d.cid, 0x446646e2, "CID");
	tap_ok(d.has_parent_cid && d.parent_cid == 0xffffffff, "parentCID");
	tap_is(d.n_extents, 1, "one extent");
	tap_ok(d.extents[0].type == VMDK_EXTENT_SPARSE && d.extents[0].sectors == 131072 &&
	       vmdk_str_eq(d.extents[0].file, "a.vmdk"), "extent fields");

	tap_is(desc("createType = \"twoGbMaxExtentFlat\"\r\n"
		    "RW 4194304 FLAT \"my disk-f001.vmdk\" 0\r\n"
		    "RDONLY 100 FLAT \"x.img\" 2048\r\nNOACCESS 8 ZERO\r\n"
		    "parentFileNameHint=\"../base disk.vmdk\"\r\n", &d, &line),
	       0, "CRLF descriptor with three extents parses");
	tap_ok(vmdk_str_eq(d.extents[0].file, "my disk-f001.vmdk"), "file name with a space");
	tap_ok(d.extents[1].access == VMDK_ACCESS_RDONLY && d.extents[1].offset == 2048,
	       "RDONLY extent with offset");
	tap_ok(d.extents[2].access == VMDK_ACCESS_NOACCESS &&
	       d.extents[2].type == VMDK_EXTENT_ZERO && !d.extents[2].file.p,
	       "NOACCESS ZERO extent without a file");
	tap_ok(vmdk_str_eq(d.parent_hint, "../base disk.vmdk"), "parentFileNameHint");
	tap_is(d.total_sectors, 4194304 + 100 + 8, "extent sizes add up");

	tap_is(desc("RW 10 SESPARSE \"a\"\nRW 10 VMFSSPARSE \"b\"\nRW 10 VMFS \"c\"\n", &d, &line),
	       0, "ESXi extent types parse");
	tap_is(desc("RW 10 BOGUS \"a\"\n", &d, &line), -EINVAL, "unknown extent type refused");
	tap_is(line, 1, "... on line 1");
	tap_is(desc("createType=\"x\"\nRW ten SPARSE \"a\"\n", &d, &line), -EINVAL,
	       "non-numeric extent size refused");
	tap_is(line, 2, "... on line 2");
	tap_is(desc("RW 99999999999999999999999 SPARSE \"a\"\n", &d, &line), -EINVAL,
	       "extent size overflowing u64 refused");
	tap_is(desc("RW 10 SPARSE a.vmdk\n", &d, &line), -EINVAL, "unquoted file refused");
	tap_is(desc("RW 10 SPARSE \"a.vmdk\n", &d, &line), -EINVAL, "unterminated quote refused");
	tap_is(desc("RW 10 SPARSE\n", &d, &line), -EINVAL, "SPARSE without file refused");
	tap_is(desc("RW 10 SPARSE \"\"\n", &d, &line), 0,
	       "empty quoted name parses (mkimg), for the caller to judge");
	tap_ok(d.n_extents == 1 && d.extents[0].file.p && !d.extents[0].file.len &&
	       d.extents[0].sectors == 10, "... as an empty, present name");
	tap_is(desc("RW 10 SPARSE \"\n", &d, &line), -EINVAL, "lone quote refused");
	tap_is(desc("RW 10 FLAT \"a\" 5 junk\n", &d, &line), -EINVAL, "trailing junk refused");
	tap_is(desc("RW 1125899906842624 FLAT \"a\"\nRW 1 FLAT \"b\"\n", &d, &line), -EFBIG,
	       "extents beyond 512 PiB refused");
	tap_is(desc("CID=xyz\ncreateType=\"a\"\n", &d, &line), -EINVAL, "bad CID refused");
	tap_is(desc("\x7f\x45LF\x02\x01\x01", &d, &line), -EINVAL, "binary junk refused");
	tap_is(desc("# only a comment\n", &d, &line), -EINVAL, "no createType, no extents refused");
	tap_is(desc("createType=\"monolithicFlat\"\0RW 5 BOGUS\n", &d, &line), 0,
	       "text ends at the first NUL");

	big = calloc(1, VMDK_DESC_MAX_BYTES + 2);
	memset(big, '#', VMDK_DESC_MAX_BYTES + 1);
	tap_is(desc(big, &d, &line), -EFBIG, "descriptor over 1 MiB refused");
	free(big);
}

int main(void)
{
	printf("TAP version 13\n");
	test_header();
	test_lookup();
	test_stream();
	test_cowd();
	test_map();
	test_descriptor();
	return tap_done();
}
