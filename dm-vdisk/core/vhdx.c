// SPDX-License-Identifier: GPL-2.0
/*
 * VHDX decoding.  Everything an image says is checked before it is used:
 * checksums, every offset and length against the file and against each
 * other, and every log entry before any of it is replayed.
 */
#include "vhdx.h"

static const u8 vhdx_bat_guid[16] = {	/* 2dc27766-f623-4200-9d64-115e9bfd4a08 */
	0x66, 0x77, 0xc2, 0x2d, 0x23, 0xf6, 0x00, 0x42,
	0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08,
};

static const u8 vhdx_metadata_guid[16] = {	/* 8b7ca206-4790-4b9a-b8fe-575f050f886e */
	0x06, 0xa2, 0x7c, 0x8b, 0x90, 0x47, 0x9a, 0x4b,
	0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e,
};

static const u8 vhdx_file_params_guid[16] = {	/* caa16737-fa36-4d43-b3b6-33f0aa44e76b */
	0x37, 0x67, 0xa1, 0xca, 0x36, 0xfa, 0x43, 0x4d,
	0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b,
};

static const u8 vhdx_disk_size_guid[16] = {	/* 2fa54224-cd1b-4876-b211-5dbed83bf4b8 */
	0x24, 0x42, 0xa5, 0x2f, 0x1b, 0xcd, 0x76, 0x48,
	0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8,
};

static const u8 vhdx_page83_guid[16] = {	/* beca12ab-b2e6-4523-93ef-c309e000c746 */
	0xab, 0x12, 0xca, 0xbe, 0xe6, 0xb2, 0x23, 0x45,
	0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46,
};

static const u8 vhdx_logical_sector_guid[16] = {	/* 8141bf1d-a96f-4709-ba47-f233a8faab5f */
	0x1d, 0xbf, 0x41, 0x81, 0x6f, 0xa9, 0x09, 0x47,
	0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f,
};

static const u8 vhdx_physical_sector_guid[16] = {	/* cda348c7-445d-4471-9cc9-e9885251c556 */
	0xc7, 0x48, 0xa3, 0xcd, 0x5d, 0x44, 0x71, 0x44,
	0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56,
};

static const u8 vhdx_parent_locator_guid[16] = {	/* a8d35f2d-b30b-454d-abf7-d3d84834ab0c */
	0x2d, 0x5f, 0xd3, 0xa8, 0x0b, 0xb3, 0x4d, 0x45,
	0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c,
};

static const u8 vhdx_locator_type_guid[16] = {	/* b04aefb7-d19e-4a81-b789-25b8e9445913 */
	0xb7, 0xef, 0x4a, 0xb0, 0x9e, 0xd1, 0x81, 0x4a,
	0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13,
};

static u32 vhdx_crc(const void *buf, size_t len, size_t csum_at)
{
	static const u8 zero[4];
	u32 crc = ~0U;

	crc = crc32c(crc, buf, csum_at);
	crc = crc32c(crc, zero, sizeof(zero));
	crc = crc32c(crc, buf + csum_at + 4, len - csum_at - 4);
	return ~crc;
}

static bool vhdx_header_ok(const struct vhdx_header *h, u64 dev_bytes)
{
	u64 log_offset = le64_to_cpu(h->log_offset);
	u32 log_length = le32_to_cpu(h->log_length);

	if (le32_to_cpu(h->signature) != VHDX_HEADER_SIGNATURE ||
	    le32_to_cpu(h->checksum) != vhdx_crc(h, sizeof(*h),
						 offsetof(struct vhdx_header, checksum)) ||
	    le16_to_cpu(h->version) != 1 || le16_to_cpu(h->log_version) != 0)
		return false;
	/* An empty log may sit anywhere; one to replay must be in the file. */
	if (vhdx_guid_is_zero(h->log_guid))
		return true;
	return log_offset >= VHDX_MiB && !(log_offset & (VHDX_MiB - 1)) &&
	       log_length && !(log_length & (VHDX_MiB - 1)) &&
	       vdisk_range_ok(log_offset, log_length, dev_bytes);
}

int vhdx_parse_headers(const void *ident, const void *h1, const void *h2,
		       u64 dev_bytes, struct vhdx *v, const char **why)
{
	const struct vhdx_header *h;
	bool ok1, ok2;

	BUILD_BUG_ON(sizeof(struct vhdx_header) != VHDX_HEADER_BYTES);
	BUILD_BUG_ON(sizeof(struct vhdx_region_entry) != 32);
	BUILD_BUG_ON(sizeof(struct vhdx_metadata_header) != 32);
	BUILD_BUG_ON(sizeof(struct vhdx_metadata_entry) != 32);
	BUILD_BUG_ON(sizeof(struct vhdx_locator_header) != 20);
	BUILD_BUG_ON(sizeof(struct vhdx_locator_entry) != 12);
	BUILD_BUG_ON(sizeof(struct vhdx_log_header) != 64);
	BUILD_BUG_ON(sizeof(struct vhdx_log_desc) != 32);
	BUILD_BUG_ON(sizeof(struct vhdx_log_data) != VHDX_LOG_SECTOR);

	memset(v, 0, sizeof(*v));
	v->dev_bytes = dev_bytes;
	if (get_unaligned_le64(ident) != VHDX_FILE_SIGNATURE)
		return vdisk_bad(why, "not a VHDX image (bad file signature)", -EINVAL);
	if (dev_bytes < VHDX_REGION2_OFFSET + VHDX_REGION_BYTES)
		return vdisk_bad(why, "file too short for the VHDX headers", -EINVAL);

	ok1 = vhdx_header_ok(h1, dev_bytes);
	ok2 = vhdx_header_ok(h2, dev_bytes);
	if (!ok1 && !ok2)
		return vdisk_bad(why, "both VHDX headers are damaged or unsupported",
				 -EINVAL);
	/* The newer of two valid copies is current. */
	if (ok1 && ok2)
		v->header = le64_to_cpu(((const struct vhdx_header *)h2)->sequence_number) >
			    le64_to_cpu(((const struct vhdx_header *)h1)->sequence_number) ? 2 : 1;
	else
		v->header = ok1 ? 1 : 2;
	v->other_header_bad = !(ok1 && ok2);
	h = v->header == 1 ? h1 : h2;

	v->seq = le64_to_cpu(h->sequence_number);
	memcpy(v->data_write_guid, h->data_write_guid, 16);
	memcpy(v->log_guid, h->log_guid, 16);
	v->log_offset = le64_to_cpu(h->log_offset);
	v->log_length = le32_to_cpu(h->log_length);
	if (!vhdx_guid_is_zero(v->log_guid) && v->log_length > VHDX_MAX_LOG_BYTES)
		return vdisk_bad(why, "VHDX log larger than 32 MiB", -EFBIG);
	return 0;
}

/* A region or metadata item we do not know: fine unless it is required. */
static int vhdx_unknown(struct vhdx *v, const u8 *guid, bool required,
			const char *reason, const char **why)
{
	if (!required)
		return 0;
	memcpy(v->bad_guid, guid, 16);
	return vdisk_bad(why, reason, -EOPNOTSUPP);
}

static const struct vhdx_region_header *
vhdx_region_table(struct vhdx *v, vdisk_read_fn read, void *ctx, void *buf)
{
	const struct vhdx_region_header *rh = buf;
	u64 at[] = { VHDX_REGION1_OFFSET, VHDX_REGION2_OFFSET };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(at); i++) {
		if (vhdx_read(v, read, ctx, at[i], buf, VHDX_REGION_BYTES))
			continue;
		if (le32_to_cpu(rh->signature) == VHDX_REGION_SIGNATURE &&
		    le32_to_cpu(rh->entry_count) <= VHDX_MAX_REGIONS &&
		    le32_to_cpu(rh->checksum) ==
		    vhdx_crc(buf, VHDX_REGION_BYTES,
			     offsetof(struct vhdx_region_header, checksum)))
			return rh;
	}
	return NULL;
}

static int vhdx_regions(struct vhdx *v, vdisk_read_fn read, void *ctx,
			void *buf, const char **why)
{
	const struct vhdx_region_header *rh = vhdx_region_table(v, read, ctx, buf);
	const struct vhdx_region_entry *e;
	u32 i, n;

	if (!rh)
		return vdisk_bad(why, "both VHDX region tables are damaged", -EINVAL);
	n = le32_to_cpu(rh->entry_count);
	e = (const void *)(rh + 1);
	for (i = 0; i < n; i++, e++) {
		u64 off = le64_to_cpu(e->file_offset);
		u32 len = le32_to_cpu(e->length);
		bool required = le32_to_cpu(e->required) & 1;

		if (!memcmp(e->guid, vhdx_bat_guid, 16) && !v->bat_offset) {
			v->bat_offset = off;
			v->bat_length = len;
		} else if (!memcmp(e->guid, vhdx_metadata_guid, 16) && !v->meta_offset) {
			v->meta_offset = off;
			v->meta_length = len;
		} else {
			int r = vhdx_unknown(v, e->guid, required,
					     "unknown required region", why);
			if (r)
				return r;
			continue;
		}
		if (off < VHDX_MiB || (off & (VHDX_MiB - 1)) || !len || len & (VHDX_MiB - 1))
			return vdisk_bad(why, "VHDX region is not aligned to 1 MiB", -EINVAL);
		if (!vdisk_range_ok(off, len, v->dev_bytes))
			return vdisk_bad(why, "VHDX region lies outside the file", -EINVAL);
	}
	if (!v->bat_offset || !v->meta_offset)
		return vdisk_bad(why, "VHDX region table lacks the BAT or metadata region",
				 -EINVAL);
	if (v->bat_offset < v->meta_offset + v->meta_length &&
	    v->meta_offset < v->bat_offset + v->bat_length)
		return vdisk_bad(why, "VHDX BAT and metadata regions overlap", -EINVAL);
	if (!vhdx_guid_is_zero(v->log_guid) &&
	    ((v->log_offset < v->bat_offset + v->bat_length &&
	      v->bat_offset < v->log_offset + v->log_length) ||
	     (v->log_offset < v->meta_offset + v->meta_length &&
	      v->meta_offset < v->log_offset + v->log_length)))
		return vdisk_bad(why, "VHDX log overlaps the BAT or metadata region",
				 -EINVAL);
	return 0;
}

/* Read a fixed-size metadata item; its size is part of the format. */
static int vhdx_item(struct vhdx *v, vdisk_read_fn read, void *ctx,
		     const struct vhdx_metadata_entry *e, void *buf, u32 len,
		     const char **why)
{
	if (le32_to_cpu(e->length) != len)
		return vdisk_bad(why, "VHDX metadata item has the wrong size", -EINVAL);
	if (vhdx_read(v, read, ctx, v->meta_offset + le32_to_cpu(e->offset), buf, len))
		return vdisk_bad(why, "cannot read VHDX metadata", -EIO);
	return 0;
}

#define VHDX_HAVE_PARAMS	BIT(0)
#define VHDX_HAVE_SIZE		BIT(1)
#define VHDX_HAVE_LOGICAL	BIT(2)
#define VHDX_HAVE_PHYSICAL	BIT(3)
#define VHDX_HAVE_ALL		(BIT(4) - 1)

static int vhdx_metadata(struct vhdx *v, vdisk_read_fn read, void *ctx,
			 void *buf, const char **why)
{
	const struct vhdx_metadata_header *mh = buf;
	struct vhdx_metadata_entry *e;
	unsigned int have = 0;
	u32 i, n;
	u8 item[16];
	int r;

	if (vhdx_read(v, read, ctx, v->meta_offset, buf, VHDX_METADATA_TABLE_BYTES))
		return vdisk_bad(why, "cannot read the VHDX metadata table", -EIO);
	n = le16_to_cpu(mh->entry_count);
	if (le64_to_cpu(mh->signature) != VHDX_METADATA_SIGNATURE ||
	    n > VHDX_MAX_METADATA)
		return vdisk_bad(why, "VHDX metadata table is damaged", -EINVAL);

	for (i = 0, e = buf + sizeof(*mh); i < n; i++, e++) {
		u32 off = le32_to_cpu(e->offset), len = le32_to_cpu(e->length);
		u32 flags = le32_to_cpu(e->flags);

		if (len && (off < VHDX_METADATA_TABLE_BYTES ||
			    !vdisk_range_ok(off, len, v->meta_length)))
			return vdisk_bad(why, "VHDX metadata item lies outside its region",
					 -EINVAL);
		if (!memcmp(e->item_id, vhdx_file_params_guid, 16)) {
			r = vhdx_item(v, read, ctx, e, item, 8, why);
			v->block_size = get_unaligned_le32(item);
			v->param_flags = get_unaligned_le32(item + 4);
			have |= VHDX_HAVE_PARAMS;
		} else if (!memcmp(e->item_id, vhdx_disk_size_guid, 16)) {
			r = vhdx_item(v, read, ctx, e, item, 8, why);
			v->disk_size = get_unaligned_le64(item);
			have |= VHDX_HAVE_SIZE;
		} else if (!memcmp(e->item_id, vhdx_logical_sector_guid, 16)) {
			r = vhdx_item(v, read, ctx, e, item, 4, why);
			v->logical_sector = get_unaligned_le32(item);
			have |= VHDX_HAVE_LOGICAL;
		} else if (!memcmp(e->item_id, vhdx_physical_sector_guid, 16)) {
			r = vhdx_item(v, read, ctx, e, item, 4, why);
			v->physical_sector = get_unaligned_le32(item);
			have |= VHDX_HAVE_PHYSICAL;
		} else if (!memcmp(e->item_id, vhdx_page83_guid, 16)) {
			r = vhdx_item(v, read, ctx, e, v->page83, 16, why);
		} else if (!memcmp(e->item_id, vhdx_parent_locator_guid, 16)) {
			if (len < sizeof(struct vhdx_locator_header) ||
			    len > VHDX_MAX_LOCATOR)
				return vdisk_bad(why, "VHDX parent locator has a bad size",
						 -EINVAL);
			v->locator_offset = v->meta_offset + off;
			v->locator_length = len;
			r = 0;
		} else {
			r = vhdx_unknown(v, e->item_id, flags & VHDX_META_IS_REQUIRED,
					 "unknown required metadata item", why);
		}
		if (r)
			return r;
	}
	if ((have & VHDX_HAVE_ALL) != VHDX_HAVE_ALL)
		return vdisk_bad(why, "VHDX metadata lacks a required item", -EINVAL);
	return 0;
}

int vhdx_parse_regions(struct vhdx *v, vdisk_read_fn read, void *ctx,
		       void *scratch, const char **why)
{
	u64 sectors_per_block;
	int r;

	r = vhdx_regions(v, read, ctx, scratch, why);
	if (!r)
		r = vhdx_metadata(v, read, ctx, scratch, why);
	if (r)
		return r;

	if (v->block_size < VHDX_MIN_BLOCK || v->block_size > VHDX_MAX_BLOCK ||
	    !is_power_of_2(v->block_size))
		return vdisk_bad(why, "VHDX block size is not a power of two from 1 to 256 MiB",
				 -EINVAL);
	if (v->logical_sector != 512 && v->logical_sector != 4096)
		return vdisk_bad(why, "VHDX logical sector size is not 512 or 4096", -EINVAL);
	if (v->physical_sector != 512 && v->physical_sector != 4096)
		return vdisk_bad(why, "VHDX physical sector size is not 512 or 4096", -EINVAL);
	if (!v->disk_size || v->disk_size > VHDX_MAX_SIZE ||
	    (v->disk_size & (v->logical_sector - 1)))
		return vdisk_bad(why, "VHDX virtual disk size is out of range", -EINVAL);
	v->has_parent = v->param_flags & VHDX_PARAM_HAS_PARENT;
	if (v->has_parent && !v->locator_offset)
		return vdisk_bad(why, "differencing VHDX has no parent locator", -EINVAL);

	sectors_per_block = v->block_size >> VDISK_SECTOR_SHIFT;
	v->block_shift = ilog2(sectors_per_block);
	v->chunk_ratio = (u32)(((u64)VHDX_CHUNK_SECTORS * v->logical_sector) >>
			       ilog2(v->block_size));
	v->data_blocks = vdisk_div_round_up_shift(v->disk_size, ilog2(v->block_size));
	if (v->has_parent)
		v->bat_entries = div_u64(v->data_blocks + v->chunk_ratio - 1,
					 v->chunk_ratio) * (v->chunk_ratio + 1);
	else
		v->bat_entries = v->data_blocks + div_u64(v->data_blocks - 1, v->chunk_ratio);
	if (v->bat_entries * 8 > v->bat_length)
		return vdisk_bad(why, "VHDX BAT region is too small for the disk", -EINVAL);
	return 0;
}

enum vdisk_state vhdx_decode_payload(const struct vhdx *v, u64 entry,
				     u64 *sector, bool *partial)
{
	u64 off = (entry >> VHDX_BAT_OFFSET_SHIFT) << 20;

	*partial = false;
	switch (entry & VHDX_BAT_STATE_MASK) {
	case VHDX_PAYLOAD_NOT_PRESENT:
		/* In the parent, or zeros in a disk without one. */
		return VDISK_UNALLOCATED;
	case VHDX_PAYLOAD_UNDEFINED:
	case VHDX_PAYLOAD_UNMAPPED:
	case VHDX_PAYLOAD_UNMAPPED_V095:
		/*
		 * Any content is allowed, not the parent's: zeros, as qemu
		 * reads them.
		 */
	case VHDX_PAYLOAD_ZERO:
		return VDISK_ZERO;
	case VHDX_PAYLOAD_PARTIALLY_PRESENT:
		if (!v->has_parent)
			return VDISK_CORRUPT;
		*partial = true;
		fallthrough;
	case VHDX_PAYLOAD_FULLY_PRESENT:
		/* Blocks live after the headers and inside the file. */
		if (off < VHDX_MiB || off >= v->dev_bytes)
			return VDISK_CORRUPT;
		*sector = off >> VDISK_SECTOR_SHIFT;
		return VDISK_DATA;
	default:
		return VDISK_CORRUPT;
	}
}

enum vdisk_state vhdx_decode_bitmap(const struct vhdx *v, u64 entry, u64 *pos)
{
	u64 off = (entry >> VHDX_BAT_OFFSET_SHIFT) << 20;

	if ((entry & VHDX_BAT_STATE_MASK) != VHDX_BITMAP_PRESENT ||
	    off < VHDX_MiB || !vdisk_range_ok(off, VHDX_BITMAP_BYTES, v->dev_bytes))
		return VDISK_CORRUPT;
	*pos = off;
	return VDISK_DATA;
}

/* The first of the @n sorted, apart ranges @ov that ends after @pos. */
static u32 vhdx_overlay_find(const struct vhdx_overlay *ov, u32 n, u64 pos)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (ov[mid].offset + ov[mid].len <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Data the replayed log rewrote is read from the log's pages: cut @m, data
 * for @run sectors, to a run that is all one overlay range or none.
 */
void vhdx_overlay_map(const struct vhdx *v, struct vdisk_mapping *m, u64 run)
{
	u64 pos = m->sector << VDISK_SECTOR_SHIFT;
	u64 lim = pos + (run << VDISK_SECTOR_SHIFT);
	u32 i = vhdx_overlay_find(v->ov, v->ov_n, pos);
	const struct vhdx_overlay *o = &v->ov[i];

	if (i < v->ov_n && o->offset <= pos) {
		if (o->offset + o->len < lim)
			lim = o->offset + o->len;
		m->state = VDISK_MEMORY;
		m->mem = o->data ? o->data + (pos - o->offset) : NULL;
	} else if (i < v->ov_n && o->offset < lim) {
		lim = o->offset;
	}
	m->run = (lim - pos) >> VDISK_SECTOR_SHIFT;
}

/* Whether the log rewrote any of the file's bytes [@pos, @pos + @len). */
bool vhdx_overlay_in(const struct vhdx *v, u64 pos, u64 len)
{
	u32 i = vhdx_overlay_find(v->ov, v->ov_n, pos);

	return i < v->ov_n && v->ov[i].offset < pos + len;
}

void vhdx_bitmap_run(const struct vhdx *v, u64 word, unsigned int bit,
		     struct vdisk_mapping *m)
{
	unsigned int lss = ilog2(v->logical_sector) - VDISK_SECTOR_SHIFT;
	u64 bits = word >> bit;
	unsigned int n;

	/* The bits from @bit that equal it end at the first that differs. */
	if (bits & 1)
		bits = ~bits;
	n = bits ? __ffs64(bits) : 64;
	if (n > 64 - bit)
		n = 64 - bit;
	m->run = n << lss;
	if (!(word >> bit & 1))
		m->state = VDISK_UNALLOCATED;
}

/* The log is a ring of 4 KiB sectors; entries may wrap around its end. */
static u32 vhdx_log_wrap(const struct vhdx *v, u64 off)
{
	u32 rem;

	div_u64_rem(off, v->log_length, &rem);
	return rem;
}

static const u8 *vhdx_log_sector(const struct vhdx *v, const u8 *log, u64 off)
{
	return log + vhdx_log_wrap(v, off);
}

static const struct vhdx_log_desc *
vhdx_log_desc(const struct vhdx *v, const u8 *log, u32 pos, u32 i)
{
	u64 at = 64 + (u64)i * 32;

	return (const void *)(vhdx_log_sector(v, log, pos + (at & ~(u64)(VHDX_LOG_SECTOR - 1))) +
			      (at & (VHDX_LOG_SECTOR - 1)));
}

/* The sectors holding an entry's header and descriptors. */
static u64 vhdx_log_desc_sectors(const struct vhdx_log_header *h)
{
	return DIV_ROUND_UP(64 + (u64)le32_to_cpu(h->descriptor_count) * 32,
			    VHDX_LOG_SECTOR);
}

/*
 * The data sectors of an entry vhdx_log_entry() accepted: it holds exactly
 * its descriptor sectors and one data sector per data descriptor.
 */
static u32 vhdx_log_data_sectors(const struct vhdx_log_header *h)
{
	return le32_to_cpu(h->entry_length) / VHDX_LOG_SECTOR -
	       (u32)vhdx_log_desc_sectors(h);
}

/*
 * Check the entry at @pos bytes into the log: signature, sizes, its
 * descriptors and data sectors, and its checksum.  Returns its header or
 * NULL.
 */
static const struct vhdx_log_header *
vhdx_log_entry(const struct vhdx *v, const u8 *log, u32 pos)
{
	const struct vhdx_log_header *h = (const void *)vhdx_log_sector(v, log, pos);
	u32 len = le32_to_cpu(h->entry_length), count, i, sectors, data = 0;
	u64 seq = le64_to_cpu(h->sequence_number), desc_sectors;
	u32 crc;

	if (le32_to_cpu(h->signature) != VHDX_LOG_SIGNATURE ||
	    !len || len % VHDX_LOG_SECTOR || len > v->log_length ||
	    le32_to_cpu(h->tail) % VHDX_LOG_SECTOR ||
	    le32_to_cpu(h->tail) >= v->log_length ||
	    memcmp(h->log_guid, v->log_guid, 16))
		return NULL;
	sectors = len / VHDX_LOG_SECTOR;
	count = le32_to_cpu(h->descriptor_count);
	desc_sectors = vhdx_log_desc_sectors(h);
	if (desc_sectors > sectors)
		return NULL;

	for (i = 0; i < count; i++) {
		const struct vhdx_log_desc *d = vhdx_log_desc(v, log, pos, i);
		const struct vhdx_log_data *ds;

		if (le64_to_cpu(d->sequence_number) != seq)
			return NULL;
		if (le32_to_cpu(d->signature) == VHDX_ZERO_SIGNATURE)
			continue;
		if (le32_to_cpu(d->signature) != VHDX_DESC_SIGNATURE ||
		    desc_sectors + data >= sectors)
			return NULL;
		ds = (const void *)vhdx_log_sector(v, log, pos + (desc_sectors + data) *
						   VHDX_LOG_SECTOR);
		if (le32_to_cpu(ds->signature) != VHDX_DATA_SIGNATURE ||
		    le32_to_cpu(ds->sequence_high) != (u32)(seq >> 32) ||
		    le32_to_cpu(ds->sequence_low) != (u32)seq)
			return NULL;
		data++;
	}
	if (desc_sectors + data != sectors)
		return NULL;

	/* The checksum is over the entry with its own field zeroed. */
	crc = ~vhdx_crc(h, VHDX_LOG_SECTOR, offsetof(struct vhdx_log_header, checksum));
	for (i = 1; i < sectors; i++)
		crc = crc32c(crc, vhdx_log_sector(v, log, pos + (u64)i * VHDX_LOG_SECTOR),
			     VHDX_LOG_SECTOR);
	return ~crc == le32_to_cpu(h->checksum) ? h : NULL;
}

/*
 * Make the run of @n entries at @pos, which vhdx_log_find() checked, the
 * active sequence if the head's tail points into it and it is newer than
 * the one found so far.
 */
static void vhdx_log_candidate(const struct vhdx *v, const u8 *log, u64 pos,
			       u32 n, const struct vhdx_log_header *head,
			       struct vhdx_log_seq *seq)
{
	u64 head_seq = le64_to_cpu(head->sequence_number);
	u32 tail = le32_to_cpu(head->tail), i, start = n;
	u32 descs = 0, data = 0;

	if (seq->entries && head_seq <= seq->head_seq)
		return;
	for (i = 0; i < n; i++) {
		const struct vhdx_log_header *h = (const void *)vhdx_log_sector(v, log, pos);

		if (start == n && vhdx_log_wrap(v, pos) == tail) {
			start = i;
			seq->first_seq = le64_to_cpu(h->sequence_number);
		}
		if (start < n) {
			descs += le32_to_cpu(h->descriptor_count);
			data += vhdx_log_data_sectors(h);
		}
		pos += le32_to_cpu(h->entry_length);
	}
	if (start == n)
		return;
	seq->tail = tail;
	seq->entries = n - start;
	seq->head_seq = head_seq;
	seq->flushed_file_offset = le64_to_cpu(head->flushed_file_offset);
	seq->last_file_offset = le64_to_cpu(head->last_file_offset);
	seq->descriptors = descs;
	seq->data_sectors = data;
}

/*
 * Find the active sequence: the newest run of valid entries with
 * consecutive sequence numbers whose head's tail points into the run.  A
 * run found from one place is skipped as a whole: a run starting inside it
 * ends at the same head.  No valid run means nothing to replay.
 */
int vhdx_log_find(const struct vhdx *v, const u8 *log,
		  struct vhdx_log_seq *seq, const char **why)
{
	u32 max_entries = v->log_length / VHDX_LOG_SECTOR;
	u64 pos = 0;

	memset(seq, 0, sizeof(*seq));
	while (pos < v->log_length) {
		const struct vhdx_log_header *h, *head = NULL;
		u64 walked = 0, prev = 0;
		u32 n = 0;

		while (n < max_entries && walked < v->log_length) {
			h = vhdx_log_entry(v, log, vhdx_log_wrap(v, pos + walked));
			if (!h || (n && le64_to_cpu(h->sequence_number) != prev + 1))
				break;
			prev = le64_to_cpu(h->sequence_number);
			head = h;
			n++;
			walked += le32_to_cpu(h->entry_length);
		}
		if (!n) {
			pos += VHDX_LOG_SECTOR;
			continue;
		}
		vhdx_log_candidate(v, log, pos, n, head, seq);
		pos += walked;
	}
	if (seq->entries && seq->flushed_file_offset > v->dev_bytes)
		return vdisk_bad(why, "file is shorter than its log says (truncated?)",
				 -EINVAL);
	if (seq->descriptors > VHDX_MAX_LOG_DESCRIPTORS)
		return vdisk_bad(why, "VHDX log has more than 65536 descriptors to replay",
				 -EFBIG);
	return 0;
}

/* Where a range starts, for sorting. */
struct vhdx_ov_start {
	u64 offset;
	u32 idx;
	u32 pad;
};

static int vhdx_cmp_start(const void *a, const void *b)
{
	const struct vhdx_ov_start *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int vhdx_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* A max-heap of range numbers: the newest range at the top. */
static void vhdx_heap_push(u32 *heap, u32 *n, u32 idx)
{
	u32 i = (*n)++;

	while (i && heap[(i - 1) / 2] < idx) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = idx;
}

static void vhdx_heap_pop(u32 *heap, u32 *n)
{
	u32 last = heap[--(*n)], i = 0, c;

	while ((c = 2 * i + 1) < *n) {
		if (c + 1 < *n && heap[c + 1] > heap[c])
			c++;
		if (heap[c] <= last)
			break;
		heap[i] = heap[c];
		i = c;
	}
	heap[i] = last;
}

/*
 * Sweep the ranges' ends in order, keeping the ranges that hold the
 * current point in a heap by age: between two ends the newest of them is
 * what the file reads.  O(n log n) once, so a lookup is a binary search.
 */
u32 vhdx_overlay_index(const struct vhdx_overlay *raw, u32 n,
		       struct vhdx_overlay *out, void *scratch)
{
	struct vhdx_ov_start *starts = scratch;
	u64 *ends = (u64 *)(starts + n), cur, next;
	u32 *heap = (u32 *)(ends + n), i, si = 0, ei = 0, hn = 0, k = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		starts[i] = (struct vhdx_ov_start){ .offset = raw[i].offset, .idx = i };
		ends[i] = raw[i].offset + raw[i].len;
	}
	vdisk_sort(starts, n, sizeof(*starts), vhdx_cmp_start);
	vdisk_sort(ends, n, sizeof(*ends), vhdx_cmp_u64);

	for (cur = starts[0].offset;; cur = next) {
		const struct vhdx_overlay *o;
		struct vhdx_overlay *prev = k ? &out[k - 1] : NULL;
		const u8 *data;

		while (si < n && starts[si].offset == cur)
			vhdx_heap_push(heap, &hn, starts[si++].idx);
		while (ei < n && ends[ei] <= cur)
			ei++;
		while (hn && raw[heap[0]].offset + raw[heap[0]].len <= cur)
			vhdx_heap_pop(heap, &hn);
		next = si < n ? starts[si].offset : U64_MAX;
		if (ei < n && ends[ei] < next)
			next = ends[ei];
		if (next == U64_MAX)
			break;
		if (!hn)
			continue;
		o = &raw[heap[0]];
		data = o->data ? o->data + (cur - o->offset) : NULL;
		/* One range from the same pages, or from zeros, continued. */
		if (prev && prev->offset + prev->len == cur &&
		    (prev->data ? prev->data + prev->len == data : !data)) {
			prev->len += next - cur;
			continue;
		}
		out[k++] = (struct vhdx_overlay){ cur, next - cur, data };
	}
	return k;
}

int vhdx_log_replay(struct vhdx *v, const u8 *log,
		    const struct vhdx_log_seq *seq, struct vhdx_overlay *out,
		    u8 *pages, void *scratch, const char **why)
{
	/* The descriptors' ranges in order first, then the index's scratch. */
	struct vhdx_overlay *ov = scratch;
	u32 e, i, n = 0, page = 0;
	u64 pos = seq->tail;

	/* vhdx_log_find() checked every entry of the sequence. */
	for (e = 0; e < seq->entries; e++) {
		const struct vhdx_log_header *h = (const void *)vhdx_log_sector(v, log, pos);
		u32 count = le32_to_cpu(h->descriptor_count);
		u64 desc_sectors = vhdx_log_desc_sectors(h);
		u32 data = 0;

		for (i = 0; i < count; i++, n++) {
			const struct vhdx_log_desc *d = vhdx_log_desc(v, log, pos, i);
			const struct vhdx_log_data *ds;
			u8 *pg = pages + (u64)page * VHDX_LOG_SECTOR;

			ov[n].offset = le64_to_cpu(d->file_offset);
			if (le32_to_cpu(d->signature) == VHDX_ZERO_SIGNATURE) {
				ov[n].len = le64_to_cpu(d->leading_bytes);
				ov[n].data = NULL;
			} else {
				ds = (const void *)vhdx_log_sector(v, log, pos +
					(desc_sectors + data++) * VHDX_LOG_SECTOR);
				memcpy(pg, &d->leading_bytes, 8);
				memcpy(pg + 8, ds->data, sizeof(ds->data));
				memcpy(pg + 8 + sizeof(ds->data), &d->trailing_bytes, 4);
				ov[n].len = VHDX_LOG_SECTOR;
				ov[n].data = pg;
				page++;
			}
			if ((ov[n].offset & (VHDX_LOG_SECTOR - 1)) || !ov[n].len ||
			    (ov[n].len & (VHDX_LOG_SECTOR - 1)))
				return vdisk_bad(why, "VHDX log entry is not 4 KiB aligned",
						 -EINVAL);
			if (!vdisk_range_ok(ov[n].offset, ov[n].len, v->dev_bytes))
				return vdisk_bad(why, "VHDX log writes past the end of the file",
						 -EINVAL);
			if (ov[n].offset < (u64)v->log_offset + v->log_length &&
			    v->log_offset < ov[n].offset + ov[n].len)
				return vdisk_bad(why, "VHDX log writes into itself", -EINVAL);
			if (ov[n].offset < VHDX_MiB)
				return vdisk_bad(why, "VHDX log writes into the headers", -EINVAL);
		}
		pos = vhdx_log_wrap(v, pos + le32_to_cpu(h->entry_length));
	}
	v->ov = out;
	v->ov_n = vhdx_overlay_index(ov, n, out, ov + n);
	return 0;
}

void vhdx_overlay_apply(const struct vhdx_overlay *ov, u32 n, u64 pos,
			void *buf, u64 len)
{
	u32 i;

	for (i = vhdx_overlay_find(ov, n, pos), ov += i; i < n; i++, ov++) {
		u64 start = ov->offset > pos ? ov->offset : pos;
		u64 end = ov->offset + ov->len < pos + len ? ov->offset + ov->len : pos + len;

		if (start >= end)
			break;
		if (ov->data)
			memcpy(buf + (start - pos), ov->data + (start - ov->offset),
			       end - start);
		else
			memset(buf + (start - pos), 0, end - start);
	}
}

int vhdx_locator_check(const u8 *loc, u32 len, const char **why)
{
	const struct vhdx_locator_header *lh = (const void *)loc;
	const struct vhdx_locator_entry *e = (const void *)(lh + 1);
	u32 i, n;

	if (len < sizeof(*lh) || memcmp(lh->locator_type, vhdx_locator_type_guid, 16))
		return vdisk_bad(why, "VHDX parent locator is not of the VHDX type",
				 -EOPNOTSUPP);
	n = le16_to_cpu(lh->key_value_count);
	if (sizeof(*lh) + (u64)n * sizeof(*e) > len)
		return vdisk_bad(why, "VHDX parent locator entries overflow it", -EINVAL);
	for (i = 0; i < n; i++, e++) {
		u32 klen = le16_to_cpu(e->key_length), vlen = le16_to_cpu(e->value_length);

		if (!klen || !vlen || klen % 2 || vlen % 2 ||
		    !vdisk_range_ok(le32_to_cpu(e->key_offset), klen, len) ||
		    !vdisk_range_ok(le32_to_cpu(e->value_offset), vlen, len))
			return vdisk_bad(why, "VHDX parent locator entry lies outside it",
					 -EINVAL);
	}
	return 0;
}

u32 vhdx_locator_find(const u8 *loc, u32 len, const char *key, u32 *vlen)
{
	const struct vhdx_locator_header *lh = (const void *)loc;
	const struct vhdx_locator_entry *e = (const void *)(lh + 1);
	u32 i, j, n = le16_to_cpu(lh->key_value_count), klen = strlen(key);

	for (i = 0; i < n; i++, e++) {
		const u8 *k = loc + le32_to_cpu(e->key_offset);

		if (le16_to_cpu(e->key_length) != 2 * klen)
			continue;
		for (j = 0; j < klen; j++)
			if (get_unaligned_le16(k + 2 * j) != (u8)key[j])
				break;
		if (j == klen) {
			*vlen = le16_to_cpu(e->value_length);
			return le32_to_cpu(e->value_offset);
		}
	}
	return 0;
}
