// SPDX-License-Identifier: GPL-2.0
/*
 * seSparse extent decoding.  The layout constants are the ones ESXi writes
 * and the only ones readers are known to handle; anything else is refused
 * rather than guessed at.
 */
#include "sesparse.h"

/*
 * Validate the constant header (sector 0) and the volatile header (sector
 * 1) in @buf against the device holding the extent.
 */
int sesparse_parse_headers(const void *buf, u64 dev_sectors,
			   struct sesparse *ss, const char **why)
{
	const struct sesparse_const_header *h = buf;
	const struct sesparse_volatile_header *v;
	u64 span = (u64)SESPARSE_GT_ENTRIES * SESPARSE_GRAIN_SECTORS;
	u64 gd_sectors, gd_room;
	unsigned int i;

	BUILD_BUG_ON(sizeof(*h) != 512);
	BUILD_BUG_ON(sizeof(*v) != 512);
	memset(ss, 0, sizeof(*ss));
	if (le64_to_cpu(h->magic) != SESPARSE_CONST_MAGIC)
		return vdisk_bad(why, "not a seSparse extent (bad magic)", -EINVAL);
	if (le64_to_cpu(h->version) != SESPARSE_VERSION)
		return vdisk_bad(why, "unsupported seSparse version", -EOPNOTSUPP);
	if (le64_to_cpu(h->grain_size) != SESPARSE_GRAIN_SECTORS ||
	    le64_to_cpu(h->grain_table_size) != SESPARSE_GT_SECTORS)
		return vdisk_bad(why, "unsupported seSparse grain or grain table size",
				 -EOPNOTSUPP);
	if (h->flags)
		return vdisk_bad(why, "unknown seSparse flags", -EOPNOTSUPP);
	for (i = 0; i < ARRAY_SIZE(h->reserved); i++)
		if (h->reserved[i])
			return vdisk_bad(why, "seSparse reserved fields are not zero",
					 -EINVAL);

	ss->dev_sectors = dev_sectors;
	ss->capacity = le64_to_cpu(h->capacity);
	if (!ss->capacity || ss->capacity > VDISK_MAX_SECTORS)
		return vdisk_bad(why, "seSparse capacity out of range", -EINVAL);
	if (ss->capacity > (u64)(SESPARSE_MAX_GD_BYTES / 8) * span)
		return vdisk_bad(why, "capacity needs a grain directory over 32 MiB",
				 -EFBIG);
	ss->gd_entries = (u32)vdisk_div_round_up_shift(ss->capacity, ilog2(span));

	if (le64_to_cpu(h->volatile_header_offset) != 1 ||
	    le64_to_cpu(h->volatile_header_size) != 1 || dev_sectors < 2)
		return vdisk_bad(why, "seSparse volatile header is not in sector 1",
				 -EINVAL);
	v = buf + VDISK_SECTOR_SIZE;
	if (le64_to_cpu(v->magic) != SESPARSE_VOLATILE_MAGIC)
		return vdisk_bad(why, "seSparse volatile header has a bad magic",
				 -EINVAL);
	if (v->replay_journal)
		return vdisk_bad(why, "journal must be replayed (the image was not closed cleanly)",
				 -EOPNOTSUPP);

	ss->gd_sector = le64_to_cpu(h->grain_dir_offset);
	gd_room = le64_to_cpu(h->grain_dir_size);
	gd_sectors = DIV_ROUND_UP((u64)ss->gd_entries * 8, VDISK_SECTOR_SIZE);
	if (gd_room < gd_sectors)
		return vdisk_bad(why, "seSparse grain directory too small for the capacity",
				 -EINVAL);
	if (ss->gd_sector < 2 || !vdisk_range_ok(ss->gd_sector, gd_sectors, dev_sectors))
		return vdisk_bad(why, "grain directory lies outside the file", -EINVAL);

	/* Tables and grains are checked one by one as they are used. */
	ss->gt_sector = le64_to_cpu(h->grain_tables_offset);
	ss->gt_region = le64_to_cpu(h->grain_tables_size);
	ss->grain_sector = le64_to_cpu(h->grains_offset);
	ss->grain_region = le64_to_cpu(h->grains_size);
	if (ss->gt_sector < 2 || ss->grain_sector < 2 ||
	    !vdisk_range_ok(ss->gt_sector, ss->gt_region, VDISK_MAX_SECTORS) ||
	    !vdisk_range_ok(ss->grain_sector, ss->grain_region, VDISK_MAX_SECTORS))
		return vdisk_bad(why, "seSparse regions out of range", -EINVAL);
	*why = NULL;
	return 0;
}

/*
 * Byte position of entry @gt_idx of the grain table directory entry @gde
 * names.  Allocated entries hold 0x10000000 in their top half and the
 * table's index in the bottom half.
 */
enum vdisk_state sesparse_gte_pos(const struct sesparse *ss, u64 gde,
				  u32 gt_idx, u64 *pos)
{
	u64 table, sector;

	if (!gde)
		return VDISK_UNALLOCATED;
	if (gde >> 32 != SESPARSE_GDE_ALLOCATED || gt_idx >= SESPARSE_GT_ENTRIES)
		return VDISK_CORRUPT;
	table = gde & U32_MAX;
	if (!vdisk_range_ok(table * SESPARSE_GT_SECTORS, SESPARSE_GT_SECTORS,
			    ss->gt_region))
		return VDISK_CORRUPT;
	sector = ss->gt_sector + table * SESPARSE_GT_SECTORS;
	if (!vdisk_range_ok(sector, SESPARSE_GT_SECTORS, ss->dev_sectors))
		return VDISK_CORRUPT;
	*pos = (sector << VDISK_SECTOR_SHIFT) + (u64)gt_idx * 8;
	return VDISK_DATA;
}

/*
 * Decode a grain table entry.  Type 3 holds a grain index whose low 12
 * bits sit in bits 48-59 and the rest in bits 0-47; unallocated entries
 * must be all zero.  Only the grain's start is checked against the device.
 */
enum vdisk_state sesparse_decode_gte(const struct sesparse *ss, u64 gte,
				     u64 *sector)
{
	u64 index;

	switch (gte >> 60) {
	case SESPARSE_GTE_UNALLOCATED:
		return gte ? VDISK_CORRUPT : VDISK_UNALLOCATED;
	case SESPARSE_GTE_UNMAPPED:
	case SESPARSE_GTE_ZERO:
		return VDISK_ZERO;
	case SESPARSE_GTE_ALLOCATED:
		index = ((gte & 0x0fff000000000000ULL) >> 48) |
			((gte & 0x0000ffffffffffffULL) << 12);
		if (!vdisk_range_ok(index * SESPARSE_GRAIN_SECTORS,
				    SESPARSE_GRAIN_SECTORS, ss->grain_region))
			return VDISK_CORRUPT;
		*sector = ss->grain_sector + index * SESPARSE_GRAIN_SECTORS;
		if (*sector >= ss->dev_sectors)
			return VDISK_CORRUPT;
		return VDISK_DATA;
	}
	return VDISK_CORRUPT;
}
