// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: VHDX headers, log replay, region tables, metadata, parent
 * locators and BAT/sector bitmap lookups, in the order the target runs them.
 *
 * VHDX aligns everything to 1 MiB, so the input is a sparse image: a le64
 * file size, then extents { le32 offset in 4 KiB pages, le16 pages, data }.
 */
#include "fuzz.h"
#include "vhdx.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

#define MAX_FILE	(64U << 20)

static u8 scratch[VHDX_REGION_BYTES];

/* Lay the extents out in a zeroed file; NULL if they do not describe one. */
static u8 *unpack(const u8 *in, size_t len, size_t *size)
{
	u64 fsize;
	u8 *file;

	if (len < 8)
		return NULL;
	fsize = get_unaligned_le64(in);
	if (fsize < 8 || fsize > MAX_FILE)
		return NULL;
	file = calloc(1, fsize);
	in += 8;
	len -= 8;
	while (len >= 6) {
		u64 off = (u64)get_unaligned_le32(in) * 4096;
		u64 n = (u64)get_unaligned_le16(in + 4) * 4096;

		in += 6;
		len -= 6;
		if (n > len)
			n = len;
		if (off < fsize)
			memcpy(file + off, in, n < fsize - off ? n : fsize - off);
		in += n;
		len -= n;
	}
	*size = fsize;
	return file;
}

static void replay(struct vhdx *v, const struct fuzz_img *f,
		   struct vhdx_overlay **ov, u8 **pages)
{
	struct vhdx_log_seq seq;
	const char *why;
	void *scratch;

	/* The header parser checked the log lies inside the file. */
	if (!vdisk_range_ok(v->log_offset, v->log_length, f->size))
		abort();
	if (vhdx_log_find(v, f->data + v->log_offset, &seq, &why) || !seq.entries)
		return;
	*ov = calloc(vhdx_overlay_room(&seq), sizeof(**ov));
	*pages = malloc(((size_t)seq.data_sectors ?: 1) * VHDX_LOG_SECTOR);
	scratch = malloc(vhdx_replay_scratch_bytes(&seq));
	vhdx_log_replay(v, f->data + v->log_offset, &seq, *ov, *pages, scratch, &why);
	free(scratch);
}

int LLVMFuzzerTestOneInput(const u8 *in, size_t in_len)
{
	struct vhdx_overlay *ov = NULL;
	struct vdisk_mapping m;
	u8 *pages = NULL, *loc, *data;
	struct fuzz_img f;
	struct vhdx v;
	const char *why;
	u64 vsec, step, capacity;
	size_t size;
	u32 len;

	data = unpack(in, in_len, &size);
	if (!data)
		return 0;
	f.data = data;
	f.size = size;
	if (size < VHDX_HEADER2_OFFSET + VHDX_HEADER_BYTES ||
	    vhdx_parse_headers(data, data + VHDX_HEADER1_OFFSET,
			       data + VHDX_HEADER2_OFFSET, size, &v, &why))
		goto out;
	if (!vhdx_guid_is_zero(v.log_guid))
		replay(&v, &f, &ov, &pages);
	if (vhdx_parse_regions(&v, fuzz_read, &f, scratch, &why))
		goto out;
	if (v.locator_offset) {
		if (!vdisk_range_ok(v.locator_offset, v.locator_length, size))
			abort();
		loc = data + v.locator_offset;
		if (!vhdx_locator_check(loc, v.locator_length, &why))
			vhdx_locator_find(loc, v.locator_length, "parent_linkage", &len);
	}
	capacity = v.disk_size >> 9;
	step = capacity / 64 + 1;
	for (vsec = 0; vsec < capacity; vsec += step) {
		m.run = 0;
		if (vhdx_map(&v, vsec, fuzz_read, &f, &m))
			abort();
		if (m.run > (1ULL << v.block_shift))
			abort();
	}
out:
	free(ov);
	free(pages);
	free(data);
	return 0;
}
