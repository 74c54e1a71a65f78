/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VirtualBox VDI images (version 1.1): a text pre-header, a little-endian
 * header, a block map of 32-bit entries and the blocks.  Normal (dynamic),
 * fixed and differencing images.
 */
#ifndef VDISK_VDI_H
#define VDISK_VDI_H

#include "vdisk_fmt.h"

#define VDI_SIGNATURE		0xbeda107fU
#define VDI_VERSION_1_1		0x00010001U

/* Image types. */
#define VDI_TYPE_NORMAL		1	/* dynamic */
#define VDI_TYPE_FIXED		2
#define VDI_TYPE_UNDO		3
#define VDI_TYPE_DIFF		4	/* differencing: over its parent */

/* Block map entries past the last block index. */
#define VDI_BLOCK_FREE		0xffffffffU	/* not here: the parent, or zeros */
#define VDI_BLOCK_ZERO		0xfffffffeU	/* reads as zeros */

/* The only block size qemu reads, and VirtualBox writes. */
#define VDI_BLOCK_BYTES		BIT(20)
#define VDI_BLOCK_SECTORS	(VDI_BLOCK_BYTES >> VDISK_SECTOR_SHIFT)
/* As qemu: entries must fit a u32 byte count of the map. */
#define VDI_MAX_BLOCKS		0x3fffffffU

struct vdi_header {
	char text[64];
	__le32 signature;
	__le32 version;
	__le32 header_size;
	__le32 image_type;
	__le32 image_flags;
	char description[256];
	__le32 offset_bmap;		/* bytes */
	__le32 offset_data;		/* bytes */
	__le32 cylinders;
	__le32 heads;
	__le32 sectors;
	__le32 sector_size;
	__le32 unused1;
	__le64 disk_size;		/* bytes */
	__le32 block_size;
	__le32 block_extra;
	__le32 blocks_in_image;
	__le32 blocks_allocated;
	u8 uuid_create[16];
	u8 uuid_modify[16];
	u8 uuid_link[16];		/* differencing: the parent's uuid_create */
	u8 uuid_parent_modify[16];
	u8 pad[56];
} __packed;

/* A validated VDI image, sizes and offsets in sectors. */
struct vdi {
	u64 capacity;
	u64 dev_sectors;
	u32 type;
	u32 blocks;			/* entries in the block map */
	u32 allocated;			/* as the header says */
	u64 bmap_pos;			/* bytes */
	u64 data_sector;
	u8 uuid_create[16];
	u8 uuid_modify[16];
	u8 uuid_link[16];
	u8 uuid_parent_modify[16];
};

int vdi_parse_header(const void *buf, u64 dev_sectors, struct vdi *v,
		     const char **why);

static inline bool vdi_uuid_is_null(const u8 *u)
{
	static const u8 zero[16];

	return !memcmp(u, zero, 16);
}

enum vdisk_state vdi_decode_entry(const struct vdi *v, u32 entry, u64 *sector);

/* Map virtual sector @vsec: read its block map entry, decode it. */
static __always_inline int vdi_map(const struct vdi *v, u64 vsec,
				   vdisk_read_fn read, void *ctx,
				   struct vdisk_mapping *m)
{
	u64 block = vsec / VDI_BLOCK_SECTORS, sector = 0;
	__le32 e;
	int r;

	if (block >= v->blocks) {
		m->state = VDISK_CORRUPT;
		return 0;
	}
	r = read(ctx, v->bmap_pos + block * 4, &e, sizeof(e));
	if (r)
		return r;
	m->state = vdi_decode_entry(v, le32_to_cpu(e), &sector);
	m->offset = vsec & (VDI_BLOCK_SECTORS - 1);
	m->sector = sector + m->offset;
	return 0;
}

#endif /* VDISK_VDI_H */
