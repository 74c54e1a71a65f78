// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the QED decoder: the header field by field, table and
 * cluster offsets, zero clusters, and lookups through an in-memory image.
 */
#include "qed.h"
#include "tap.h"

#define CL	65536ULL
#define DEV	(40 * CL)

static u8 img[DEV];

/* qemu-img's layout: header cluster, 4-cluster L1 at 64 KiB, 16 MiB disk. */
static void good(void)
{
	struct qed_header *h = (void *)img;

	memset(img, 0, sizeof(img));
	h->magic = cpu_to_le32(QED_MAGIC);
	h->cluster_size = cpu_to_le32(CL);
	h->table_size = cpu_to_le32(4);
	h->header_size = cpu_to_le32(1);
	h->l1_table_offset = cpu_to_le64(CL);
	h->image_size = cpu_to_le64(16ULL << 20);
}

static int parse(struct qed *q)
{
	const char *why = NULL;
	int r = qed_parse_header(img, DEV, q, &why);

	if (r && !why)
		tap_ok(0, "a refusal says why");
	return r;
}

static void field32(unsigned int off, u32 val, int want, const char *desc)
{
	struct qed q;

	good();
	*(__le32 *)(img + off) = cpu_to_le32(val);
	tap_is(parse(&q), want, desc);
}

static void field64(unsigned int off, u64 val, int want, const char *desc)
{
	struct qed q;

	good();
	*(__le64 *)(img + off) = cpu_to_le64(val);
	tap_is(parse(&q), want, desc);
}

static int mem_read(void *ctx, u64 pos, void *buf, unsigned int len)
{
	if (pos > DEV || len > DEV - pos)
		return -EIO;
	memcpy(buf, img + pos, len);
	return 0;
}

static void put(u64 off, u64 v)
{
	*(__le64 *)(img + off) = cpu_to_le64(v);
}

int main(void)
{
	struct vdisk_mapping m;
	struct qed q;
	u64 pos = 0;

	printf("TAP version 13\n");
	good();
	tap_is(parse(&q), 0, "qemu-img's layout accepted");
	tap_ok(q.cluster_bits == 16 && q.l2_bits == 15 && q.l1_entries == 1 &&
	       q.capacity == 32768 && q.file_end == DEV, "fields decoded");

	field32(0, 0x00444552, -EINVAL, "bad magic refused");
	field32(4, 2048, -EINVAL, "2 KiB clusters refused");
	field32(4, 128U << 20, -EINVAL, "128 MiB clusters refused");
	field32(4, 3 * 4096, -EINVAL, "cluster size not a power of two refused");
	field32(4, 4096, 0, "4 KiB clusters accepted");
	field32(8, 0, -EINVAL, "table size 0 refused");
	field32(8, 3, -EINVAL, "table size 3 refused");
	field32(8, 32, -EINVAL, "table size 32 refused");
	field32(8, 1, 0, "table size 1 accepted");
	field32(12, 0, -EINVAL, "header size 0 refused");
	field32(12, 41, -EINVAL, "header past the file refused");
	field64(16, 8, -EOPNOTSUPP, "unknown feature refused");
	field64(16, QED_F_NEED_CHECK, 0, "need-check flag accepted");
	field64(24, ~0ULL, 0, "compatible features ignored");
	field64(32, ~0ULL, 0, "autoclear features ignored");
	field64(40, 0, -EINVAL, "L1 over the header refused");
	field64(40, CL + 512, -EINVAL, "misaligned L1 refused");
	field64(40, 37 * CL, -EINVAL, "L1 running past the file refused");
	field64(40, 36 * CL, 0, "L1 ending at the file's end accepted");
	field64(48, 0, -EINVAL, "empty disk refused");
	field64(48, (16ULL << 20) + 100, -EINVAL, "size not a multiple of 512 refused");
	/* 64 KiB clusters, 4-cluster tables: 32768 entries of 2 GiB each. */
	field64(48, 32768ULL << 31, 0, "size the full L1 maps accepted");
	field64(48, (32768ULL << 31) + 512, -EINVAL, "... one sector more refused");

	good();
	put(16, QED_F_BACKING_FILE);
	*(__le32 *)(img + 56) = cpu_to_le32(64);
	*(__le32 *)(img + 60) = cpu_to_le32(5);
	tap_is(parse(&q), 0, "backing file name in the header cluster");
	tap_ok(q.backing_offset == 64 && q.backing_size == 5, "... located");
	*(__le32 *)(img + 56) = cpu_to_le32(CL - 4);
	tap_is(parse(&q), -EINVAL, "backing file name past the header refused");
	*(__le32 *)(img + 56) = cpu_to_le32(64);
	*(__le32 *)(img + 60) = cpu_to_le32(0);
	tap_is(parse(&q), -EINVAL, "empty backing file name refused");
	put(16, 0);
	tap_is(parse(&q), 0, "backing fields ignored without the feature");
	tap_ok(!q.backing_offset, "... no backing file");

	/* L1 entry 0 -> L2 at cluster 5; entries: data, zero, none, bad. */
	good();
	parse(&q);
	tap_is(qed_l2_pos(&q, 0, 3, &pos), VDISK_UNALLOCATED, "L1 entry 0: no table");
	tap_is(qed_l2_pos(&q, 5 * CL, 3, &pos), VDISK_DATA, "L1 entry of a table");
	tap_is(pos, 5 * CL + 24, "... entry 3 of it");
	tap_is(qed_l2_pos(&q, 5 * CL + 8, 0, &pos), VDISK_CORRUPT, "misaligned table corrupt");
	tap_is(qed_l2_pos(&q, 1, 0, &pos), VDISK_CORRUPT, "L1 entry 1 is corrupt");
	tap_is(qed_l2_pos(&q, 37 * CL, 0, &pos), VDISK_CORRUPT, "table past the end corrupt");
	tap_is(qed_l2_pos(&q, 5 * CL, 32768, &pos), VDISK_CORRUPT, "index past the table corrupt");

	tap_is(qed_decode_l2(&q, 0, 0, &m), VDISK_UNALLOCATED, "L2 entry 0: unallocated");
	tap_is(qed_decode_l2(&q, 1, 0, &m), VDISK_ZERO, "L2 entry 1: zero cluster");
	tap_is(qed_decode_l2(&q, 9 * CL, 7, &m), VDISK_DATA, "L2 entry of a cluster");
	tap_is(m.sector, 9 * 128 + 7, "... its sector");
	tap_is(qed_decode_l2(&q, 9 * CL + 512, 0, &m), VDISK_CORRUPT, "misaligned cluster corrupt");
	tap_is(qed_decode_l2(&q, 2, 0, &m), VDISK_CORRUPT, "entry 2 corrupt");
	tap_is(qed_decode_l2(&q, 40 * CL, 0, &m), VDISK_CORRUPT, "cluster at the end corrupt");
	tap_is(qed_decode_l2(&q, 39 * CL, 0, &m), VDISK_DATA, "last cluster of the file");

	/* A file not a whole number of clusters: its partial one is unusable. */
	{
		const char *why;

		tap_is(qed_parse_header(img, DEV - 512, &q, &why), 0, "file ending mid-cluster");
		tap_is(qed_decode_l2(&q, 39 * CL, 0, &m), VDISK_CORRUPT,
		       "... its partial cluster is corrupt");
	}

	good();
	parse(&q);
	put(CL, 5 * CL);
	put(5 * CL + 0 * 8, 9 * CL);
	put(5 * CL + 1 * 8, 1);
	put(5 * CL + 3 * 8, 2 * CL + 8);
	tap_is(qed_map(&q, (const __le64 *)(img + CL), 130, mem_read, NULL, &m), 0, "map");
	tap_ok(m.state == VDISK_ZERO, "sector 130: zero cluster");
	qed_map(&q, (const __le64 *)(img + CL), 5, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 9 * 128 + 5, "sector 5: in cluster 9");
	qed_map(&q, (const __le64 *)(img + CL), 2 * 128, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_UNALLOCATED, "cluster 2: unallocated");
	qed_map(&q, (const __le64 *)(img + CL), 3 * 128, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_CORRUPT, "cluster 3: bad entry, corrupt");
	qed_map(&q, (const __le64 *)(img + CL), 1ULL << 22, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_CORRUPT, "past the L1 entries read: corrupt");
	return tap_done();
}
