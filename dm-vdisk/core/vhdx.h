/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VHDX (Hyper-V): the header pair, region table, metadata, the block
 * allocation table with its interleaved sector bitmaps, parent locators,
 * and the metadata log, replayed in memory.  All fields are little-endian;
 * GUIDs are kept as their 16 on-disk bytes.
 */
#ifndef VDISK_VHDX_H
#define VDISK_VHDX_H

#include "vdisk_fmt.h"

#define VHDX_FILE_SIGNATURE	0x656c696678646876ULL	/* "vhdxfile" */
#define VHDX_HEADER_SIGNATURE	0x64616568U		/* "head" */
#define VHDX_REGION_SIGNATURE	0x69676572U		/* "regi" */
#define VHDX_METADATA_SIGNATURE	0x617461646174656dULL	/* "metadata" */
#define VHDX_LOG_SIGNATURE	0x65676f6cU		/* "loge" */
#define VHDX_ZERO_SIGNATURE	0x6f72657aU		/* "zero" */
#define VHDX_DESC_SIGNATURE	0x63736564U		/* "desc" */
#define VHDX_DATA_SIGNATURE	0x61746164U		/* "data" */

#define VHDX_HEADER1_OFFSET	(64U << 10)
#define VHDX_HEADER2_OFFSET	(128U << 10)
#define VHDX_HEADER_BYTES	(4U << 10)
#define VHDX_REGION1_OFFSET	(192U << 10)
#define VHDX_REGION2_OFFSET	(256U << 10)
#define VHDX_REGION_BYTES	(64U << 10)
#define VHDX_METADATA_TABLE_BYTES (64U << 10)
#define VHDX_MiB		(1024U * 1024)
#define VHDX_LOG_SECTOR		4096U
#define VHDX_BITMAP_BYTES	VHDX_MiB	/* one sector bitmap block */
#define VHDX_CHUNK_SECTORS	(8U * VHDX_MiB)	/* logical sectors a bitmap covers */

/* Limits: the spec's, and caps on what a reader allocates. */
#define VHDX_MIN_BLOCK		VHDX_MiB
#define VHDX_MAX_BLOCK		(256U << 20)
#define VHDX_MAX_SIZE		(64ULL << 40)	/* 64 TiB */
#define VHDX_MAX_REGIONS	2047
#define VHDX_MAX_METADATA	2047
#define VHDX_MAX_LOCATOR	(64U << 10)
#define VHDX_MAX_LOG_BYTES	(32U << 20)	/* read whole to be replayed */
/*
 * Descriptors in the active log sequence.  Each costs the reader an index
 * entry or two for the life of the device; a 32 MiB log could otherwise
 * hold a million zero descriptors.  A log full of data descriptors has
 * fewer than 8192.
 */
#define VHDX_MAX_LOG_DESCRIPTORS 65536

/* BAT entry: state in bits 0-2, file offset in MiB in bits 20-63. */
#define VHDX_BAT_STATE_MASK	7ULL
#define VHDX_BAT_OFFSET_SHIFT	20

enum vhdx_bat_state {
	VHDX_PAYLOAD_NOT_PRESENT = 0,
	VHDX_PAYLOAD_UNDEFINED = 1,
	VHDX_PAYLOAD_ZERO = 2,
	VHDX_PAYLOAD_UNMAPPED = 3,
	VHDX_PAYLOAD_UNMAPPED_V095 = 5,	/* 0.95 drafts; qemu accepts it */
	VHDX_PAYLOAD_FULLY_PRESENT = 6,
	VHDX_PAYLOAD_PARTIALLY_PRESENT = 7,
	VHDX_BITMAP_PRESENT = 6,	/* sector bitmap entries */
};

/* File parameters flags. */
#define VHDX_PARAM_LEAVE_BLOCKS_ALLOCATED	BIT(0)
#define VHDX_PARAM_HAS_PARENT			BIT(1)

/* Metadata entry flags. */
#define VHDX_META_IS_USER		BIT(0)
#define VHDX_META_IS_VIRTUAL_DISK	BIT(1)
#define VHDX_META_IS_REQUIRED		BIT(2)

struct vhdx_header {
	__le32 signature;
	__le32 checksum;
	__le64 sequence_number;
	u8 file_write_guid[16];
	u8 data_write_guid[16];
	u8 log_guid[16];
	__le16 log_version;
	__le16 version;
	__le32 log_length;
	__le64 log_offset;
	u8 reserved[4016];
} __packed;

struct vhdx_region_header {
	__le32 signature;
	__le32 checksum;
	__le32 entry_count;
	__le32 reserved;
} __packed;

struct vhdx_region_entry {
	u8 guid[16];
	__le64 file_offset;
	__le32 length;
	__le32 required;
} __packed;

struct vhdx_metadata_header {
	__le64 signature;
	__le16 reserved;
	__le16 entry_count;
	__le32 reserved2[5];
} __packed;

struct vhdx_metadata_entry {
	u8 item_id[16];
	__le32 offset;
	__le32 length;
	__le32 flags;
	__le32 reserved;
} __packed;

struct vhdx_locator_header {
	u8 locator_type[16];
	__le16 reserved;
	__le16 key_value_count;
} __packed;

struct vhdx_locator_entry {
	__le32 key_offset;
	__le32 value_offset;
	__le16 key_length;
	__le16 value_length;
} __packed;

struct vhdx_log_header {
	__le32 signature;
	__le32 checksum;
	__le32 entry_length;
	__le32 tail;
	__le64 sequence_number;
	__le32 descriptor_count;
	__le32 reserved;
	u8 log_guid[16];
	__le64 flushed_file_offset;
	__le64 last_file_offset;
} __packed;

/* A data descriptor ("desc") or, with other meanings, a zero one ("zero"). */
struct vhdx_log_desc {
	__le32 signature;
	__le32 trailing_bytes;	/* zero: reserved */
	__le64 leading_bytes;	/* zero: zero_length */
	__le64 file_offset;
	__le64 sequence_number;
} __packed;

struct vhdx_log_data {
	__le32 signature;
	__le32 sequence_high;
	u8 data[4084];
	__le32 sequence_low;
} __packed;

/*
 * A range of the file as the replayed log leaves it: @len bytes at @offset
 * read as @data, or as zeros if @data is NULL.  Replay leaves them sorted
 * by offset and apart (where descriptors overlap, the later one's bytes).
 */
struct vhdx_overlay {
	u64 offset;
	u64 len;
	const u8 *data;
};

/* The active log sequence found by vhdx_log_find(). */
struct vhdx_log_seq {
	u32 tail;		/* its first entry, bytes into the log */
	u32 entries;
	u64 first_seq, head_seq;
	u64 flushed_file_offset;
	u64 last_file_offset;
	u32 descriptors;	/* overlay ranges replay will produce */
	u32 data_sectors;	/* 4 KiB pages replay needs */
};

/* A validated VHDX image; sizes in bytes unless named otherwise. */
struct vhdx {
	u64 dev_bytes;
	/* The current header. */
	u64 seq;
	int header;		/* which copy: 1 or 2 */
	bool other_header_bad;
	u8 data_write_guid[16];
	u8 log_guid[16];
	u64 log_offset;
	u32 log_length;
	/* Regions. */
	u64 bat_offset;
	u32 bat_length;
	u64 meta_offset;
	u32 meta_length;
	/* Metadata. */
	u32 block_size;
	u32 param_flags;
	u64 disk_size;
	u32 logical_sector;
	u32 physical_sector;
	u8 page83[16];
	u64 locator_offset;	/* file offset of the parent locator, 0: none */
	u32 locator_length;
	/* Derived. */
	u32 block_shift;	/* log2(block_size / 512) */
	u32 chunk_ratio;	/* payload blocks per sector bitmap */
	u64 data_blocks;
	u64 bat_entries;
	bool has_parent;
	/* The replayed log, if any: applied over every metadata read. */
	const struct vhdx_overlay *ov;
	u32 ov_n;
	u8 bad_guid[16];	/* the unknown required region or item refused */
};

static inline bool vhdx_guid_is_zero(const u8 *g)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		if (g[i])
			return false;
	return true;
}

/*
 * Check the file signature in the first 8 bytes @ident, and pick the
 * current header of the two 4 KiB copies @h1 and @h2.
 */
int vhdx_parse_headers(const void *ident, const void *h1, const void *h2,
		       u64 dev_bytes, struct vhdx *v, const char **why);
/*
 * Read and validate the region tables and metadata through @read (which
 * must show the replayed log).  @scratch holds VHDX_REGION_BYTES.
 */
int vhdx_parse_regions(struct vhdx *v, vdisk_read_fn read, void *ctx,
		       void *scratch, const char **why);

/* Find the active sequence in the whole log @log (v->log_length bytes). */
int vhdx_log_find(const struct vhdx *v, const u8 *log,
		  struct vhdx_log_seq *seq, const char **why);
/* Entries of the index @ov that vhdx_log_replay() may fill for @seq. */
static inline u32 vhdx_overlay_room(const struct vhdx_log_seq *seq)
{
	return 2 * seq->descriptors + 1;
}

/* The scratch vhdx_log_replay() needs while it builds the index. */
static inline size_t vhdx_replay_scratch_bytes(const struct vhdx_log_seq *seq)
{
	/* The ranges in order, then their starts, ends and a heap of them. */
	return ((size_t)seq->descriptors + 1) *
	       (sizeof(struct vhdx_overlay) + 3 * sizeof(u64) + sizeof(u32));
}

/*
 * Replay @seq: the pages it writes go to @pages (seq->data_sectors * 4 KiB),
 * the ranges they leave, sorted and apart, to @ov (vhdx_overlay_room()
 * entries), laid over @v's reads from then on.  @scratch holds
 * vhdx_replay_scratch_bytes().
 */
int vhdx_log_replay(struct vhdx *v, const u8 *log,
		    const struct vhdx_log_seq *seq, struct vhdx_overlay *ov,
		    u8 *pages, void *scratch, const char **why);
/* Sort @n ranges, later ones winning, into apart ones in @out; returns how many. */
u32 vhdx_overlay_index(const struct vhdx_overlay *raw, u32 n,
		       struct vhdx_overlay *out, void *scratch);
/* Copy what the overlay says onto @buf, which holds [pos, pos + len). */
void vhdx_overlay_apply(const struct vhdx_overlay *ov, u32 n, u64 pos,
			void *buf, u64 len);

/*
 * Find @key (ASCII) in the parent locator @loc; returns the value's byte
 * offset in @loc and sets @vlen, or 0 if absent.  Values are UTF-16LE.
 */
u32 vhdx_locator_find(const u8 *loc, u32 len, const char *key, u32 *vlen);
int vhdx_locator_check(const u8 *loc, u32 len, const char **why);

static inline u64 vhdx_bat_index(const struct vhdx *v, u64 block)
{
	return block + div_u64(block, v->chunk_ratio);
}

static inline u64 vhdx_bitmap_index(const struct vhdx *v, u64 block)
{
	return div_u64(block, v->chunk_ratio) * (v->chunk_ratio + 1) + v->chunk_ratio;
}

/* Read table bytes: the device as the replayed log leaves it. */
static __always_inline int vhdx_read(const struct vhdx *v, vdisk_read_fn read,
				     void *ctx, u64 pos, void *buf,
				     unsigned int len)
{
	int r = read(ctx, pos, buf, len);

	if (!r && unlikely(v->ov_n))
		vhdx_overlay_apply(v->ov, v->ov_n, pos, buf, len);
	return r;
}

/*
 * Decode a payload block's BAT entry.  A partially present block comes back
 * as VDISK_DATA with *@partial set: its sector bitmap decides per sector.
 */
enum vdisk_state vhdx_decode_payload(const struct vhdx *v, u64 entry,
				     u64 *sector, bool *partial);
/* Decode a sector bitmap's BAT entry: VDISK_DATA and its byte position. */
enum vdisk_state vhdx_decode_bitmap(const struct vhdx *v, u64 entry, u64 *pos);
void vhdx_overlay_map(const struct vhdx *v, struct vdisk_mapping *m, u64 run);
bool vhdx_overlay_in(const struct vhdx *v, u64 pos, u64 len);
/* Sectors from bit @bit of @word on that have its value, as a mapping. */
void vhdx_bitmap_run(const struct vhdx *v, u64 word, unsigned int bit,
		     struct vdisk_mapping *m);

/*
 * Map virtual sector @vsec.  In a partially present block the mapping
 * holds for the run of sectors the sector bitmap says are alike (m->run),
 * as in a block whose data the log rewrote in part; those are m->part.
 */
static __always_inline int vhdx_map(const struct vhdx *v, u64 vsec,
				    vdisk_read_fn read, void *ctx,
				    struct vdisk_mapping *m)
{
	u64 block = vsec >> v->block_shift, sector = 0, pos, bit;
	u64 off = vsec & ((1ULL << v->block_shift) - 1);
	unsigned int lss = ilog2(v->logical_sector) - VDISK_SECTOR_SHIFT;
	bool partial = false;
	__le64 e;
	int r;

	m->run = 0;
	m->part = false;
	r = vhdx_read(v, read, ctx, v->bat_offset + vhdx_bat_index(v, block) * 8,
		      &e, sizeof(e));
	if (r)
		return r;
	m->state = vhdx_decode_payload(v, le64_to_cpu(e), &sector, &partial);
	m->sector = sector + off;
	if (!partial)
		goto overlay;

	m->part = true;
	r = vhdx_read(v, read, ctx, v->bat_offset + vhdx_bitmap_index(v, block) * 8,
		      &e, sizeof(e));
	if (r)
		return r;
	m->state = vhdx_decode_bitmap(v, le64_to_cpu(e), &pos);
	if (m->state != VDISK_DATA)
		return 0;
	/* A bit per logical sector of the chunk, read a 64-bit word at a time. */
	bit = (vsec >> lss) & (VHDX_CHUNK_SECTORS - 1);
	r = vhdx_read(v, read, ctx, pos + (bit >> 6) * 8, &e, sizeof(e));
	if (r)
		return r;
	vhdx_bitmap_run(v, le64_to_cpu(e), bit & 63, m);
overlay:
	if (unlikely(v->ov_n) && m->state == VDISK_DATA) {
		if (!partial)
			m->part = vhdx_overlay_in(v, (m->sector - off) << VDISK_SECTOR_SHIFT,
						  1ULL << (v->block_shift + VDISK_SECTOR_SHIFT));
		vhdx_overlay_map(v, m, m->run ?: (1ULL << v->block_shift) - off);
	}
	return 0;
}

#endif /* VDISK_VHDX_H */
