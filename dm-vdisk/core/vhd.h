/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VHD (Virtual PC, qemu's "vpc"): a 512-byte footer at the end of the file
 * (and, for dynamic and differencing disks, a copy at offset 0), a dynamic
 * header, a block allocation table of 32-bit sector numbers, and blocks
 * each preceded by a sector bitmap.  All fields are big-endian.
 */
#ifndef VDISK_VHD_H
#define VDISK_VHD_H

#include "vdisk_fmt.h"

#define VHD_FOOTER_BYTES	512U
#define VHD_DYN_HEADER_BYTES	1024U
#define VHD_LOCATORS		8

#define VHD_TYPE_FIXED		2
#define VHD_TYPE_DYNAMIC	3
#define VHD_TYPE_DIFFERENCING	4

#define VHD_BAT_UNALLOCATED	0xffffffffU
/* qemu's limits: 2040 GiB, and the CHS geometry that means "use the size". */
#define VHD_MAX_SECTORS		0xff000000ULL
#define VHD_MAX_GEOMETRY	(65535ULL * 16 * 255)
#define VHD_MIN_BLOCK		512U

/* Parent locator platform codes. */
#define VHD_PLAT_W2KU		0x57326b75U	/* "W2ku": absolute, UTF-16LE */
#define VHD_PLAT_W2RU		0x57327275U	/* "W2ru": relative, UTF-16LE */
#define VHD_PLAT_MACX		0x4d616358U	/* "MacX": file URL, UTF-8 */
#define VHD_MAX_LOCATOR		4096U		/* bytes of one path read */

struct vhd_footer {
	u8 cookie[8];			/* "conectix" */
	__be32 features;
	__be32 version;
	__be64 data_offset;		/* the dynamic header */
	__be32 timestamp;
	u8 creator_app[4];
	__be16 creator_major;
	__be16 creator_minor;
	u8 creator_os[4];
	__be64 original_size;
	__be64 current_size;
	__be16 cylinders;
	u8 heads;
	u8 sectors_per_track;
	__be32 disk_type;
	__be32 checksum;
	u8 unique_id[16];
	u8 saved_state;
	u8 reserved[427];
} __packed;

struct vhd_locator {
	__be32 platform_code;
	__be32 data_space;
	__be32 data_length;
	__be32 reserved;
	__be64 data_offset;
} __packed;

struct vhd_dyn_header {
	u8 cookie[8];			/* "cxsparse" */
	__be64 data_offset;
	__be64 table_offset;
	__be32 header_version;
	__be32 max_table_entries;
	__be32 block_size;
	__be32 checksum;
	u8 parent_uuid[16];
	__be32 parent_timestamp;
	__be32 reserved;
	__be16 parent_name[256];	/* UTF-16BE */
	struct vhd_locator loc[VHD_LOCATORS];
	u8 reserved2[256];
} __packed;

/* A validated VHD image; sizes in bytes unless named otherwise. */
struct vhd {
	u64 dev_bytes;
	u32 type;
	u64 capacity;		/* virtual sectors */
	bool size_from_chs;	/* capacity is cylinders * heads * sectors */
	u64 current_size;
	u8 creator_app[4];
	u8 unique_id[16];
	/* Dynamic and differencing disks. */
	u64 header_offset;
	u64 bat_offset;
	u32 bat_entries;
	u32 block_size;
	u32 block_shift;	/* log2(block_size / 512) */
	u32 bitmap_bytes;	/* the sector bitmap before each block */
	u8 parent_uuid[16];
};

/* One's complement of the byte sum, the 4 bytes at @csum_at left out. */
u32 vhd_checksum(const void *buf, size_t len, size_t csum_at);
static inline bool vhd_footer_cookie(const void *buf)
{
	return !memcmp(buf, "conectix", 8);
}

/*
 * Validate the footer @buf, read from the start of the file (@at_end false:
 * a dynamic or differencing disk) or from its last 512 bytes (a fixed one),
 * and take the disk's type, identity and virtual size from it.
 */
int vhd_parse_footer(const void *buf, bool at_end, u64 dev_bytes,
		     struct vhd *v, const char **why);
/* Validate the dynamic header @buf (at v->header_offset). */
int vhd_parse_dyn_header(const void *buf, struct vhd *v, const char **why);

/* Decode BAT entry @e: VDISK_DATA with the block's first data sector. */
enum vdisk_state vhd_decode_bat(const struct vhd *v, u32 e, u64 *sector);
/*
 * Sectors from bit @bit (0-63) of the sector bitmap word @word (big-endian
 * bit order: the first sector is the top bit) that have its value; sets
 * m->state (VDISK_DATA or VDISK_UNALLOCATED) and m->run.
 */
void vhd_bitmap_run(u64 word, unsigned int bit, struct vdisk_mapping *m);

/*
 * Map virtual sector @vsec.  A differencing disk's sector bitmap decides
 * per sector whether its block or the parent is read (m->run); a dynamic
 * disk reads an allocated block whole, as qemu does.
 */
static __always_inline int vhd_map(const struct vhd *v, u64 vsec,
				   vdisk_read_fn read, void *ctx,
				   struct vdisk_mapping *m)
{
	u64 block, off, sector = 0;
	__be32 e;
	__be64 w;
	int r;

	m->run = 0;
	if (v->type == VHD_TYPE_FIXED) {
		m->state = vsec < v->capacity ? VDISK_DATA : VDISK_CORRUPT;
		m->sector = vsec;
		return 0;
	}
	block = vsec >> v->block_shift;
	off = vsec & ((1ULL << v->block_shift) - 1);
	if (block >= v->bat_entries) {
		m->state = VDISK_CORRUPT;
		return 0;
	}
	r = read(ctx, v->bat_offset + block * 4, &e, sizeof(e));
	if (r)
		return r;
	m->state = vhd_decode_bat(v, be32_to_cpu(e), &sector);
	m->sector = sector + off;
	if (m->state != VDISK_DATA || v->type != VHD_TYPE_DIFFERENCING)
		return 0;
	/* The bitmap ends where the data starts; a word at a time. */
	r = read(ctx, ((sector << VDISK_SECTOR_SHIFT) - v->bitmap_bytes) +
		 (off >> 6) * 8, &w, sizeof(w));
	if (r)
		return r;
	vhd_bitmap_run(be64_to_cpu(w), off & 63, m);
	if (m->run > (1ULL << v->block_shift) - off)
		m->run = (1ULL << v->block_shift) - off;
	return 0;
}

#endif /* VDISK_VHD_H */
