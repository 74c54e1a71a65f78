/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parallels expandable images (Parallels Desktop, Virtuozzo/OpenVZ ploop):
 * a 64-byte little-endian header, then a BAT of 32-bit cluster offsets.
 */
#ifndef VDISK_PARALLELS_H
#define VDISK_PARALLELS_H

#include "vdisk_fmt.h"

#define PARALLELS_MAGIC_V1	"WithoutFreeSpace"	/* BAT in sectors */
#define PARALLELS_MAGIC_EXT	"WithouFreSpacExt"	/* BAT in clusters */
#define PARALLELS_VERSION	2
#define PARALLELS_INUSE		0x746f6e59U	/* open for writing */
#define PARALLELS_CLOSED	0x312e3276U
#define PARALLELS_BAT_OFFSET	64
/* qemu's limit on the cluster size: a 2^31-byte cluster plus a sector. */
#define PARALLELS_MAX_TRACKS	(0x7fffffffU / 513)

struct parallels_header {
	char magic[16];
	__le32 version;
	__le32 heads;
	__le32 cylinders;
	__le32 tracks;			/* cluster size in sectors */
	__le32 bat_entries;
	__le64 nb_sectors;		/* "WithoutFreeSpace": low half only */
	__le32 inuse;
	__le32 data_off;		/* sectors */
	__le32 flags;
	__le64 ext_off;			/* format extension, sectors */
} __packed;

/* A validated image; sizes and offsets in sectors. */
struct parallels {
	bool ext;		/* "WithouFreSpacExt" */
	u32 tracks;
	u32 unit;		/* largest power of two dividing tracks */
	u32 bat_entries;	/* as the header says */
	u32 bat_used;		/* ... the ones the capacity reaches */
	u64 capacity;
	u64 dev_sectors;
	u64 bat_end;		/* first sector after the header and BAT */
	u64 data_start;		/* data_off, or bat_end if it is 0 */
	u32 heads, cylinders, inuse, flags, data_off;
	u64 ext_off;
};

int parallels_parse_header(const void *buf, u64 dev_sectors,
			   struct parallels *p, const char **why);
enum vdisk_state parallels_decode_bat(const struct parallels *p, u32 entry,
				      u32 in_cluster, struct vdisk_mapping *m);

/* Byte position of the BAT entry of cluster @idx. */
static inline u64 parallels_bat_pos(u64 idx)
{
	return PARALLELS_BAT_OFFSET + idx * 4;
}

/* Map virtual sector @vsec through the BAT entry @read fetches. */
static __always_inline int parallels_map(const struct parallels *p, u64 vsec,
					 vdisk_read_fn read, void *ctx,
					 struct vdisk_mapping *m)
{
	u32 in_cluster;
	u64 idx = div_u64_rem(vsec, p->tracks, &in_cluster);
	__le32 e;
	int r;

	m->offset = 0;
	/* Past the BAT: not allocated (qemu reads zeros there). */
	if (idx >= p->bat_used) {
		m->state = VDISK_UNALLOCATED;
		return 0;
	}
	r = read(ctx, parallels_bat_pos(idx), &e, sizeof(e));
	if (r)
		return r;
	m->state = parallels_decode_bat(p, le32_to_cpu(e), in_cluster, m);
	return 0;
}

#endif /* VDISK_PARALLELS_H */
