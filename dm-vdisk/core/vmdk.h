/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMDK hosted sparse extents (VMDK4, magic "KDMV"): header, grain directory
 * and grain table decoding.
 */
#ifndef VDISK_VMDK_H
#define VDISK_VMDK_H

#include "vdisk_fmt.h"

#define VMDK4_MAGIC		0x564d444bU	/* "KDMV" read little-endian */
#define VMDK3_MAGIC		0x44574f43U	/* "COWD" read little-endian */
#define VMDK3_GT_ENTRIES	4096U

#define VMDK4_FLAG_NL_DETECT	BIT(0)
#define VMDK4_FLAG_RGD		BIT(1)
#define VMDK4_FLAG_ZERO_GRAIN	BIT(2)
#define VMDK4_FLAG_COMPRESS	BIT(16)
#define VMDK4_FLAG_MARKER	BIT(17)

#define VMDK4_GD_AT_END		0xffffffffffffffffULL
#define VMDK4_GTE_ZEROED	1U

#define VMDK4_COMPRESS_NONE	0
#define VMDK4_COMPRESS_DEFLATE	1

/* streamOptimized markers: a grain marker is {lba, size} then data. */
#define VMDK4_MARKER_EOS	0
#define VMDK4_MARKER_GT		1
#define VMDK4_MARKER_GD		2
#define VMDK4_MARKER_FOOTER	3
#define VMDK4_GRAIN_MARKER_SIZE	12

/* The tail of a stream: footer marker, footer (a header copy), EOS. */
#define VMDK4_TAIL_SECTORS	3

/*
 * Limits on what an image may claim.  Grains up to 1 GiB and grain tables of
 * up to 4096 entries cover every writer we know of (VMware and QEMU use 64 KiB
 * grains and 512 entries); the grain directory cap bounds what the kernel
 * allocates for it at construction time, like QEMU's 32 MiB L1 cap.
 */
#define VMDK_MAX_GRAIN_SHIFT	21		/* 2^21 sectors = 1 GiB */
#define VMDK_MAX_GT_ENTRIES	4096U
#define VMDK_MAX_GD_BYTES	(32U << 20)
#define VMDK_MAX_DESC_SECTORS	2048U		/* 1 MiB of descriptor */
/* Compressed grains are inflated whole into memory: keep them small. */
#define VMDK_MAX_COMPRESSED_GRAIN_SHIFT	12	/* 2 MiB */

struct vmdk4_marker {
	__le64 val;		/* grain: its LBA; metadata: sectors that follow */
	__le32 size;		/* grain: compressed bytes; metadata: 0 */
	__le32 type;		/* metadata only */
} __packed;

struct vmdk4_header {
	__le32 magic;
	__le32 version;
	__le32 flags;
	__le64 capacity;
	__le64 grain_size;
	__le64 desc_offset;
	__le64 desc_size;
	__le32 num_gtes_per_gt;
	__le64 rgd_offset;
	__le64 gd_offset;
	__le64 overhead;
	u8 unclean_shutdown;
	u8 nl_check[4];
	__le16 compress_algorithm;
	u8 pad[433];
} __packed;

/* vmfsSparse ("COWD", VMDK3) extents of ESXi snapshots: 32-bit fields. */
struct vmdk3_header {
	__le32 magic;
	__le32 version;
	__le32 flags;
	__le32 disk_sectors;
	__le32 granularity;	/* grain size in sectors */
	__le32 gd_offset;
	__le32 gd_entries;
	__le32 file_sectors;
	__le32 cylinders;
	__le32 heads;
	__le32 sectors_per_track;
} __packed;

/* A validated sparse extent (VMDK4 or VMDK3), in host byte order. */
struct vmdk_sparse {
	u64 capacity;		/* virtual size, sectors */
	u64 dev_sectors;	/* size of the device holding the extent */
	u64 gd_sector;		/* grain directory */
	u64 rgd_sector;		/* redundant grain directory, 0 if none */
	u64 desc_sector;	/* embedded descriptor, 0 if none */
	u64 desc_sectors;
	u64 overhead;		/* sectors of metadata before the first grain */
	u32 version;
	u32 flags;
	u32 grain_shift;	/* log2 of the grain size in sectors */
	u32 gt_shift;		/* log2 of the entries per grain table */
	u32 gd_entries;
	u16 compress;
	bool compressed;	/* grains are deflated, behind grain markers */
};

int vmdk4_parse_header(const void *buf, u64 dev_sectors,
		       struct vmdk_sparse *vs, const char **why);
int vmdk3_parse_header(const void *buf, u64 dev_sectors,
		       struct vmdk_sparse *vs, const char **why);
/* Either kind of sparse extent header; a stream's needs its tail too. */
int vmdk_parse_header(const void *buf, u64 dev_sectors,
		      struct vmdk_sparse *vs, const char **why);
bool vmdk4_gd_in_footer(const void *buf);
int vmdk4_parse_tail(const void *tail, u64 dev_sectors,
		     struct vmdk_sparse *vs, const char **why);
int vmdk_grain_marker(const struct vmdk_sparse *vs, const void *buf,
		      size_t len, u64 grain_lba, u32 *data_len, const char **why);

static inline u64 vmdk_grain_sectors(const struct vmdk_sparse *vs)
{
	return 1ULL << vs->grain_shift;
}

static inline u32 vmdk_gt_entries(const struct vmdk_sparse *vs)
{
	return 1U << vs->gt_shift;
}

/* Largest compressed grain, with its marker, that a reader must accept. */
static inline u32 vmdk_max_marker_bytes(const struct vmdk_sparse *vs)
{
	/* deflate may grow incompressible data a little */
	return (u32)(vmdk_grain_sectors(vs) << VDISK_SECTOR_SHIFT) * 2 +
		VDISK_SECTOR_SIZE;
}

/* Size of the grain directory in bytes (at most VMDK_MAX_GD_BYTES). */
static inline u32 vmdk_gd_bytes(const struct vmdk_sparse *vs)
{
	return vs->gd_entries * 4;
}

/* Grain directory index of the grain holding virtual sector @vsec. */
static inline u32 vmdk_gd_index(const struct vmdk_sparse *vs, u64 vsec)
{
	return (u32)(vsec >> (vs->grain_shift + vs->gt_shift));
}

/* Index of that grain inside its grain table. */
static inline u32 vmdk_gt_index(const struct vmdk_sparse *vs, u64 vsec)
{
	return (u32)(vsec >> vs->grain_shift) & (vmdk_gt_entries(vs) - 1);
}

enum vdisk_state vmdk_gte_pos(const struct vmdk_sparse *vs, u32 gde,
			      u32 gt_idx, u64 *pos);
enum vdisk_state vmdk_decode_gte(const struct vmdk_sparse *vs, u32 gte,
				 u64 *sector);

/*
 * Map virtual sector @vsec through grain directory @gd (as read from the
 * image) and the grain table entry @read fetches.  Inline so the kernel's
 * reader is a direct call on the fast path.
 */
static __always_inline int vmdk_map(const struct vmdk_sparse *vs,
				    const __le32 *gd, u64 vsec,
				    vdisk_read_fn read, void *ctx,
				    struct vdisk_mapping *m)
{
	u32 gde = le32_to_cpu(gd[vmdk_gd_index(vs, vsec)]);
	u64 pos, sector = 0;
	__le32 gte;
	int r;

	m->state = vmdk_gte_pos(vs, gde, vmdk_gt_index(vs, vsec), &pos);
	if (m->state != VDISK_DATA)
		return 0;
	r = read(ctx, pos, &gte, sizeof(gte));
	if (r)
		return r;
	m->state = vmdk_decode_gte(vs, le32_to_cpu(gte), &sector);
	m->offset = vsec & (vmdk_grain_sectors(vs) - 1);
	if (m->state == VDISK_DATA && vs->compressed) {
		/* The grain's marker holds its length. */
		m->state = VDISK_COMPRESSED;
		m->sector = sector;
		m->skip = 0;
		m->clen = 0;
	} else {
		m->sector = sector + m->offset;
	}
	return 0;
}

#endif /* VDISK_VMDK_H */
