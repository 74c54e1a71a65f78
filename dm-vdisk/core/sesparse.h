/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMDK seSparse extents (ESXi 6.5+ snapshots): a constant header, a
 * volatile header, and 64-bit grain directory and grain table entries.
 */
#ifndef VDISK_SESPARSE_H
#define VDISK_SESPARSE_H

#include "vdisk_fmt.h"

#define SESPARSE_CONST_MAGIC	0x00000000cafebabeULL
#define SESPARSE_VOLATILE_MAGIC	0x00000000cafecafeULL
#define SESPARSE_VERSION	0x0000000200000001ULL
#define SESPARSE_GRAIN_SECTORS	8	/* 4 KiB grains */
#define SESPARSE_GT_SECTORS	64	/* 4096 entries per grain table */
#define SESPARSE_GT_ENTRIES	(SESPARSE_GT_SECTORS * VDISK_SECTOR_SIZE / 8)
#define SESPARSE_MAX_GD_BYTES	(32U << 20)

/* Grain directory entries: allocated tables carry this in the top half. */
#define SESPARSE_GDE_ALLOCATED	0x10000000ULL

/* Grain table entry types, in the top nibble. */
#define SESPARSE_GTE_UNALLOCATED 0x0
#define SESPARSE_GTE_UNMAPPED	0x1
#define SESPARSE_GTE_ZERO	0x2
#define SESPARSE_GTE_ALLOCATED	0x3

struct sesparse_const_header {
	__le64 magic;
	__le64 version;
	__le64 capacity;
	__le64 grain_size;
	__le64 grain_table_size;
	__le64 flags;
	__le64 reserved[4];
	__le64 volatile_header_offset;
	__le64 volatile_header_size;
	__le64 journal_header_offset;
	__le64 journal_header_size;
	__le64 journal_offset;
	__le64 journal_size;
	__le64 grain_dir_offset;
	__le64 grain_dir_size;
	__le64 grain_tables_offset;
	__le64 grain_tables_size;
	__le64 free_bitmap_offset;
	__le64 free_bitmap_size;
	__le64 backmap_offset;
	__le64 backmap_size;
	__le64 grains_offset;
	__le64 grains_size;
	u8 pad[304];
} __packed;

struct sesparse_volatile_header {
	__le64 magic;
	__le64 free_gt_number;
	__le64 next_txn_seq_number;
	__le64 replay_journal;
	u8 pad[480];
} __packed;

/* A validated seSparse extent, sizes and offsets in sectors. */
struct sesparse {
	u64 capacity;
	u64 dev_sectors;
	u64 gd_sector;
	u32 gd_entries;		/* the ones the capacity needs */
	u64 gt_sector;		/* the grain tables' region */
	u64 gt_region;		/* ... its size */
	u64 grain_sector;	/* the grains' region */
	u64 grain_region;
};

int sesparse_parse_headers(const void *buf, u64 dev_sectors,
			   struct sesparse *ss, const char **why);

static inline u32 sesparse_gd_bytes(const struct sesparse *ss)
{
	return ss->gd_entries * 8;
}

enum vdisk_state sesparse_gte_pos(const struct sesparse *ss, u64 gde,
				  u32 gt_idx, u64 *pos);
enum vdisk_state sesparse_decode_gte(const struct sesparse *ss, u64 gte,
				     u64 *sector);

/* Map virtual sector @vsec, as vmdk_map() does for hosted sparse extents. */
static __always_inline int sesparse_map(const struct sesparse *ss,
					const __le64 *gd, u64 vsec,
					vdisk_read_fn read, void *ctx,
					struct vdisk_mapping *m)
{
	u64 grain = vsec / SESPARSE_GRAIN_SECTORS, pos, sector = 0;
	__le64 gte;
	int r;

	m->state = sesparse_gte_pos(ss, le64_to_cpu(gd[grain / SESPARSE_GT_ENTRIES]),
				    grain & (SESPARSE_GT_ENTRIES - 1), &pos);
	if (m->state != VDISK_DATA)
		return 0;
	r = read(ctx, pos, &gte, sizeof(gte));
	if (r)
		return r;
	m->state = sesparse_decode_gte(ss, le64_to_cpu(gte), &sector);
	m->offset = vsec & (SESPARSE_GRAIN_SECTORS - 1);
	m->sector = sector + m->offset;
	return 0;
}

#endif /* VDISK_SESPARSE_H */
