// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the QCOW/QCOW2 decoder: headers field by field, header
 * extensions, snapshot entries, and L2 entries at every boundary (offset
 * bits, the compressed descriptor for each cluster size, subcluster bitmaps).
 */
#include <stdlib.h>

#include "qcow2.h"
#include "tap.h"

#define DEV (64ULL << 20)	/* a 64 MiB image file */

static u8 buf[4096];

static void put32(unsigned int off, u32 v)
{
	*(__be32 *)(buf + off) = htobe32(v);
}

static void put64(unsigned int off, u64 v)
{
	*(__be64 *)(buf + off) = htobe64(v);
}

/* A v3 header: 64 KiB clusters, 1 GiB (two L2 tables), L1 at 192 KiB. */
static void v3(void)
{
	memset(buf, 0, sizeof(buf));
	put32(0, QCOW_MAGIC);
	put32(4, 3);
	put32(20, 16);
	put64(24, 1ULL << 30);
	put32(36, 2);
	put64(40, 0x30000);
	put64(48, 0x10000);
	put32(56, 1);
	put32(96, 4);
	put32(100, 112);
}

static int parse(struct qcow2 *q)
{
	const char *why = NULL;
	int r = qcow_parse_header(buf, DEV, q, &why);

	if (r && !why)
		printf("# error without a reason\n");
	return r;
}

static void header_tests(void)
{
	struct qcow2 q;

	v3();
	tap_is(parse(&q), 0, "v3 header accepted");
	tap_ok(q.cluster_bits == 16 && q.l2_bits == 13 && q.capacity == 1ULL << 21 &&
	       q.l1_offset == 0x30000 && q.l1_size == 2, "v3 fields decoded");
	put32(4, 4);
	tap_is(parse(&q), -EOPNOTSUPP, "version 4 refused");
	v3();
	put32(0, 0x514649fa);
	tap_is(parse(&q), -EINVAL, "bad magic refused");
	v3();
	put32(20, 8);
	tap_is(parse(&q), -EINVAL, "256-byte clusters refused");
	put32(20, 22);
	tap_is(parse(&q), -EINVAL, "4 MiB clusters refused");
	put32(20, 9);
	put32(36, 1U << 21);
	put64(40, 0x30000);
	tap_is(parse(&q), 0, "512-byte clusters accepted (L1 of 2M entries)");
	v3();
	put32(32, 1);
	tap_is(parse(&q), -EOPNOTSUPP, "encryption refused");
	v3();
	put64(72, QCOW2_INCOMPAT_CORRUPT);
	tap_is(parse(&q), -EINVAL, "corrupt bit refused");
	put64(72, QCOW2_INCOMPAT_DIRTY);
	tap_is(parse(&q), 0, "dirty bit accepted");
	put64(72, BIT_ULL(5));
	tap_is(parse(&q), -EOPNOTSUPP, "unknown incompatible bit refused");
	put64(72, BIT_ULL(63));
	tap_is(parse(&q), -EOPNOTSUPP, "incompatible bit 63 refused");
	v3();
	put64(72, QCOW2_INCOMPAT_COMPRESSION);
	tap_is(parse(&q), -EINVAL, "compression bit without a type refused");
	buf[104] = 1;
	tap_is(parse(&q), 0, "zstd with its bit accepted");
	tap_is(q.compression, QCOW2_COMPRESS_ZSTD, "... as zstd");
	put64(72, 0);
	tap_is(parse(&q), -EINVAL, "zstd without its bit refused");
	put64(72, QCOW2_INCOMPAT_COMPRESSION);
	buf[104] = 2;
	tap_is(parse(&q), -EOPNOTSUPP, "unknown compression type refused");
	v3();
	put64(72, QCOW2_INCOMPAT_EXTL2);
	put32(36, 4);
	tap_is(parse(&q), 0, "extended L2 accepted");
	tap_ok(q.l2_entry_shift == 4 && q.l2_bits == 12 && q.sc_shift == 2,
	       "... 16-byte entries, 2 KiB subclusters");
	put32(20, 13);
	put32(36, 16);
	tap_is(parse(&q), -EINVAL, "extended L2 with 8 KiB clusters refused");
	put32(20, 14);
	put32(36, 1024);
	put64(40, 0x30000);
	tap_is(parse(&q), 0, "extended L2 with 16 KiB clusters accepted");
	tap_is(q.sc_shift, 0, "... 512-byte subclusters");
	v3();
	put32(100, 100);
	tap_is(parse(&q), -EINVAL, "header length under 104 refused");
	put32(100, 108);
	tap_is(parse(&q), -EINVAL, "header length not a multiple of 8 refused");
	v3();
	put32(36, 0);
	tap_is(parse(&q), -EINVAL, "L1 too small for the size refused");
	v3();
	put64(40, 0x30200);
	tap_is(parse(&q), -EINVAL, "misaligned L1 refused");
	put64(40, DEV);
	tap_is(parse(&q), -EINVAL, "L1 past the end refused");
	v3();
	put64(24, 1ULL << 60);
	tap_is(parse(&q), -EINVAL, "2^60-byte disk refused");
	v3();
	put32(36, (32U << 20) / 8 + 1);
	tap_is(parse(&q), -EFBIG, "L1 over 32 MiB refused");
	v3();
	put64(8, 0x200);
	put32(16, 1024);
	tap_is(parse(&q), -EINVAL, "backing name over 1023 bytes refused");
	put32(16, 10);
	tap_is(parse(&q), 0, "backing name in the first cluster accepted");
	put64(8, 0x10000 - 5);
	tap_is(parse(&q), -EINVAL, "backing name past the first cluster refused");
	v3();
	put32(60, 2);
	put64(64, 0x40004);
	tap_is(parse(&q), -EINVAL, "misaligned snapshot table refused");

	/* v2 has no feature fields; v1 its own layout. */
	v3();
	put32(4, 2);
	put64(72, ~0ULL);
	tap_is(parse(&q), 0, "v2 ignores what v3 puts after 72 bytes");
	memset(buf, 0, sizeof(buf));
	put32(0, QCOW_MAGIC);
	put32(4, 1);
	put64(24, 8 << 20);
	buf[32] = 12;
	buf[33] = 9;
	put64(40, 48);
	tap_is(parse(&q), 0, "v1 header accepted");
	tap_ok(q.l1_size == 4 && q.l1_offset == 48, "v1 L1 sized from the disk");
	buf[32] = 17;
	tap_is(parse(&q), -EINVAL, "v1 128 KiB clusters refused");
	buf[32] = 12;
	buf[33] = 5;
	tap_is(parse(&q), -EINVAL, "v1 32-entry L2 tables refused");
	buf[33] = 9;
	put32(36, 1);
	tap_is(parse(&q), -EOPNOTSUPP, "v1 encryption refused");
}

static void ext_tests(void)
{
	struct qcow2_exts e;
	struct qcow2 q;
	const char *why, *name;
	u32 len = 0;

	v3();
	parse(&q);
	put32(112, QCOW2_EXT_BACKING_FORMAT);
	put32(116, 5);
	memcpy(buf + 120, "qcow2", 5);
	put32(128, QCOW2_EXT_FEATURE_TABLE);
	put32(132, 48);
	buf[136] = 0;
	buf[137] = 5;
	memcpy(buf + 138, "shiny new thing", 15);
	put32(184, 0);
	tap_is(qcow2_parse_extensions(&q, buf, sizeof(buf), &e, &why), 0, "extensions parsed");
	tap_ok(e.backing_fmt_len == 5 && !memcmp(e.backing_fmt, "qcow2", 5),
	       "backing format found");
	name = qcow2_feature_name(&e, 0, 5, &len);
	tap_ok(name && len == 15 && !memcmp(name, "shiny new thing", 15),
	       "feature table names incompatible bit 5");
	tap_ok(!qcow2_feature_name(&e, 0, 6, &len), "... and not bit 6");
	put32(132, 4000);
	tap_is(qcow2_parse_extensions(&q, buf, sizeof(buf), &e, &why), -EINVAL,
	       "extension running past the area refused");
}

static void snapshot_tests(void)
{
	struct qcow2_snapshot s;
	struct qcow2 q;
	const char *why;
	u8 e[128];

	v3();
	parse(&q);
	memset(e, 0, sizeof(e));
	*(__be64 *)e = htobe64(0x50000);
	*(__be32 *)(e + 8) = htobe32(1);
	*(__be16 *)(e + 12) = htobe16(1);
	*(__be16 *)(e + 14) = htobe16(5);
	*(__be32 *)(e + 36) = htobe32(24);
	*(__be64 *)(e + 48) = htobe64(1ULL << 29);
	tap_is(qcow2_parse_snapshot(&q, e, sizeof(e), &s, &why), 0, "snapshot entry parsed");
	tap_ok(s.l1_offset == 0x50000 && s.disk_size == 1ULL << 29 && s.entry_len == 72,
	       "... L1, disk size from the extra data, padded length");
	tap_is(qcow2_parse_snapshot(&q, e, 71, &s, &why), -EINVAL, "cut-off entry refused");
	*(__be32 *)(e + 36) = htobe32(1025);
	tap_is(qcow2_parse_snapshot(&q, e, sizeof(e), &s, &why), -EINVAL,
	       "extra data over 1 KiB refused");
}

/* The compressed descriptor for every cluster size: offset and length. */
static void compressed_tests(void)
{
	struct vdisk_mapping m;
	struct qcow2 q;
	u32 cb;
	int bad = 0;

	for (cb = 9; cb <= 21; cb++) {
		u32 x = 62 - (cb - 8);
		u64 off = 0x123456 + cb, nsec = (1ULL << (62 - x)) - 1;
		u64 e = QCOW2_COMPRESSED | (nsec << x) | off;

		v3();
		put32(20, cb);
		put32(36, (u32)DIV_ROUND_UP(1ULL << 30, 1ULL << (2 * cb - 3)));
		put64(40, 1ULL << 22);
		if (parse(&q)) {
			bad++;
			continue;
		}
		if (qcow2_decode_l2(&q, e, 0, 1, &m) != VDISK_COMPRESSED ||
		    m.sector != off >> 9 || m.skip != (off & 511) ||
		    m.clen != (nsec + 1) * 512 - (off & 511) || m.offset != 1) {
			printf("# cluster_bits %u: sector %llu skip %u clen %u\n", cb,
			       (unsigned long long)m.sector, m.skip, m.clen);
			bad++;
		}
		/* The highest offset bit is still the offset's. */
		e = QCOW2_COMPRESSED | (1ULL << (x - 1));
		if (qcow2_decode_l2(&q, e, 0, 0, &m) != VDISK_CORRUPT)
			bad++;
	}
	tap_is(bad, 0, "compressed descriptor for cluster_bits 9 to 21");
}

static void l2_tests(void)
{
	struct vdisk_mapping m;
	struct qcow2 q;
	u64 pos;

	v3();
	parse(&q);
	tap_is(qcow2_l2_pos(&q, 0, 3, &pos), VDISK_UNALLOCATED, "L1 entry 0: no L2 table");
	tap_is(qcow2_l2_pos(&q, QCOW2_COPIED | 0x40000, 3, &pos), VDISK_DATA,
	       "L1 entry with the copied bit");
	tap_is(pos, 0x40000 + 24, "... entry 3 of its table");
	tap_is(qcow2_l2_pos(&q, 0x40200, 3, &pos), VDISK_CORRUPT, "misaligned L2 table");
	tap_is(qcow2_l2_pos(&q, DEV - 0x10000, 0, &pos), VDISK_DATA, "L2 table at the end");
	tap_is(qcow2_l2_pos(&q, DEV, 0, &pos), VDISK_CORRUPT, "L2 table past the end");

	tap_is(qcow2_decode_l2(&q, 0, 0, 0, &m), VDISK_UNALLOCATED, "L2 entry 0 unallocated");
	tap_is(qcow2_decode_l2(&q, QCOW2_ZERO, 0, 0, &m), VDISK_ZERO, "zero flag");
	tap_is(qcow2_decode_l2(&q, QCOW2_ZERO | 0x50000, 0, 0, &m), VDISK_ZERO,
	       "zero flag on an allocated cluster");
	tap_is(qcow2_decode_l2(&q, QCOW2_COPIED | 0x50000, 0, 7, &m), VDISK_DATA, "data");
	tap_is(m.sector, (0x50000 >> 9) + 7, "... at its sector");
	tap_is(qcow2_decode_l2(&q, 0x50200, 0, 0, &m), VDISK_CORRUPT, "misaligned data");
	tap_is(qcow2_decode_l2(&q, DEV, 0, 0, &m), VDISK_CORRUPT, "data past the end");
	tap_is(qcow2_decode_l2(&q, QCOW2_OFFSET_MASK & ~0xffffULL, 0, 0, &m), VDISK_CORRUPT,
	       "data at the highest offset (bit 55)");

	/* In an external data file offset 0 is a place: copied says so. */
	q.external_data = true;
	tap_is(qcow2_decode_l2(&q, QCOW2_COPIED, 0, 5, &m), VDISK_DATA,
	       "data file: offset 0 with the copied bit is data");
	tap_is(m.sector, 5, "... at the data file's start");
	tap_is(qcow2_decode_l2(&q, 0, 0, 5, &m), VDISK_UNALLOCATED,
	       "data file: offset 0 without it is unallocated");
	q.external_data = false;

	/* Extended L2: 2 KiB subclusters of a 64 KiB cluster. */
	put64(72, QCOW2_INCOMPAT_EXTL2);
	put32(36, 4);
	tap_is(parse(&q), 0, "extended L2 image");
	tap_is(qcow2_decode_l2(&q, 0x50000, 1ULL << 3, 12, &m), VDISK_DATA,
	       "subcluster 3 allocated");
	tap_is(m.sector, (0x50000 >> 9) + 12, "... at its sector");
	tap_is(qcow2_decode_l2(&q, 0x50000, 1ULL << 3, 16, &m), VDISK_UNALLOCATED,
	       "subcluster 4 unallocated");
	tap_is(qcow2_decode_l2(&q, 0x50000, 1ULL << 36, 16, &m), VDISK_ZERO,
	       "subcluster 4 reads as zero");
	tap_is(qcow2_decode_l2(&q, 0x50000, (1ULL << 4) | (1ULL << 36), 16, &m),
	       VDISK_CORRUPT, "allocated and zero at once");
	tap_is(qcow2_decode_l2(&q, 0, 1ULL << 31, 127, &m), VDISK_CORRUPT,
	       "subcluster 31 allocated without a cluster");
	tap_is(qcow2_decode_l2(&q, 0x50000, 1ULL << 31, 127, &m), VDISK_DATA,
	       "subcluster 31, last sector");
	tap_is(qcow2_decode_l2(&q, QCOW2_COMPRESSED | 0x50000, 1, 0, &m), VDISK_CORRUPT,
	       "compressed cluster with a bitmap");
	tap_is(qcow2_io_sectors(&q), 4, "bios split at subclusters");

	/* Raw external data: holes read from the data file. */
	put64(72, QCOW2_INCOMPAT_DATA_FILE);
	put64(88, QCOW2_AUTOCLEAR_DATA_FILE_RAW);
	parse(&q);
	m.state = VDISK_UNALLOCATED;
	qcow2_raw_fallback(&q, 100, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 100,
	       "raw data file: holes at the guest offset");
	tap_is(qcow2_decode_l2(&q, QCOW2_COMPRESSED | 0x50000, 0, 0, &m), VDISK_CORRUPT,
	       "compressed cluster with an external data file");

	/* QCOW v1 entries. */
	memset(buf, 0, sizeof(buf));
	put32(0, QCOW_MAGIC);
	put32(4, 1);
	put64(24, 8 << 20);
	buf[32] = 12;
	buf[33] = 9;
	put64(40, 48);
	parse(&q);
	tap_is(qcow2_decode_l2(&q, 0x3000, 0, 2, &m), VDISK_DATA, "v1 data");
	tap_is(m.sector, 24 + 2, "... at its sector");
	tap_is(qcow2_decode_l2(&q, BIT_ULL(63) | (300ULL << 51) | 0x4321, 0, 0, &m),
	       VDISK_COMPRESSED, "v1 compressed");
	tap_ok(m.sector == 0x4321 >> 9 && m.skip == (0x4321 & 511) && m.clen == 300,
	       "... byte offset and exact size");
	tap_is(qcow2_l2_pos(&q, 0x1234, 0, &pos), VDISK_CORRUPT,
	       "v1 L2 table not 8-byte aligned");
}

int main(void)
{
	printf("TAP version 13\n");
	header_tests();
	ext_tests();
	snapshot_tests();
	compressed_tests();
	l2_tests();
	return tap_done();
}
