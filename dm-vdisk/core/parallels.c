// SPDX-License-Identifier: GPL-2.0
/*
 * Parallels image decoding, shared by the kernel target and the tools.
 * Reads need only the header and the BAT: the in-use mark, data_off and
 * the format extension (dirty bitmaps) do not change what a sector holds.
 */
#include "parallels.h"

/*
 * Validate the header at the start of @buf (at least 64 bytes) against the
 * size of the image file, in sectors.
 */
int parallels_parse_header(const void *buf, u64 dev_sectors,
			   struct parallels *p, const char **why)
{
	const struct parallels_header *h = buf;
	u64 need;

	BUILD_BUG_ON(sizeof(struct parallels_header) != 64);
	memset(p, 0, sizeof(*p));
	if (!memcmp(h->magic, PARALLELS_MAGIC_EXT, 16))
		p->ext = true;
	else if (memcmp(h->magic, PARALLELS_MAGIC_V1, 16))
		return vdisk_bad(why, "not a Parallels image (bad magic)", -EINVAL);
	if (le32_to_cpu(h->version) != PARALLELS_VERSION)
		return vdisk_bad(why, "unsupported Parallels version", -EOPNOTSUPP);

	p->tracks = le32_to_cpu(h->tracks);
	if (!p->tracks || p->tracks > PARALLELS_MAX_TRACKS)
		return vdisk_bad(why, "cluster size out of range (tracks 1 to 4186100)",
				 -EINVAL);
	p->unit = p->tracks & -p->tracks;
	p->heads = le32_to_cpu(h->heads);
	p->cylinders = le32_to_cpu(h->cylinders);
	p->inuse = le32_to_cpu(h->inuse);
	p->flags = le32_to_cpu(h->flags);
	p->data_off = le32_to_cpu(h->data_off);
	p->ext_off = le64_to_cpu(h->ext_off);
	p->dev_sectors = dev_sectors;

	p->capacity = le64_to_cpu(h->nb_sectors);
	if (!p->ext)	/* only the low half counts in version 1 images */
		p->capacity &= U32_MAX;
	if (!p->capacity || p->capacity > VDISK_MAX_SECTORS)
		return vdisk_bad(why, "disk size out of range", -EINVAL);

	p->bat_entries = le32_to_cpu(h->bat_entries);
	need = div_u64(p->capacity + p->tracks - 1, p->tracks);
	p->bat_used = (u32)min_t(u64, p->bat_entries, need);
	p->bat_end = vdisk_div_round_up_shift(parallels_bat_pos(p->bat_entries),
					      VDISK_SECTOR_SHIFT);
	if (parallels_bat_pos(p->bat_used) > dev_sectors << VDISK_SECTOR_SHIFT)
		return vdisk_bad(why, "BAT lies past the end of the file", -EINVAL);
	p->data_start = p->data_off ?: p->bat_end;
	*why = NULL;
	return 0;
}

/*
 * Decode a BAT entry for the sector @in_cluster sectors into its cluster:
 * a sector number in version 1 images, a cluster number in "Ext" ones.
 * Data over the header and BAT, or starting past the file, is corrupt.
 */
enum vdisk_state parallels_decode_bat(const struct parallels *p, u32 entry,
				      u32 in_cluster, struct vdisk_mapping *m)
{
	u64 sector = p->ext ? (u64)entry * p->tracks : entry;

	if (!entry)
		return VDISK_UNALLOCATED;
	if (sector < p->bat_end || in_cluster >= p->tracks ||
	    sector + in_cluster >= p->dev_sectors)
		return VDISK_CORRUPT;
	m->sector = sector + in_cluster;
	return VDISK_DATA;
}
