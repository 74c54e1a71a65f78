// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the VHDX decoder: CRC-32C, the choice of header, BAT entry
 * states, BAT indexes with interleaved sector bitmaps, sector bitmap runs,
 * log sequences (tail, wrap, stale and damaged entries) and their replay,
 * overlays, and parent locators.
 */
#include <stdlib.h>

#include "vhdx.h"
#include "tap.h"

#define MiB (1ULL << 20)

static u8 h1[4096], h2[4096], ident[8] = "vhdxfile";

static void put_crc(void *buf, size_t len, size_t at)
{
	u32 crc;

	memset(buf + at, 0, 4);
	crc = ~crc32c(~0U, buf, len);
	*(__le32 *)(buf + at) = cpu_to_le32(crc);
}

static void mkheader(u8 *h, u64 seq, bool log)
{
	struct vhdx_header *hd = (void *)h;

	memset(h, 0, 4096);
	hd->signature = cpu_to_le32(VHDX_HEADER_SIGNATURE);
	hd->sequence_number = cpu_to_le64(seq);
	hd->version = cpu_to_le16(1);
	hd->data_write_guid[0] = (u8)seq;
	if (log) {
		hd->log_guid[3] = 0x42;
		hd->log_offset = cpu_to_le64(MiB);
		hd->log_length = cpu_to_le32(MiB);
	}
	put_crc(h, 4096, 4);
}

static int headers(struct vhdx *v)
{
	const char *why;

	return vhdx_parse_headers(ident, h1, h2, 64 * MiB, v, &why);
}

static void test_headers(void)
{
	struct vhdx v;

	tap_is(~crc32c(~0U, "123456789", 9), 0xe3069283, "CRC-32C check value");

	mkheader(h1, 5, false);
	mkheader(h2, 7, false);
	tap_ok(!headers(&v) && v.header == 2 && v.seq == 7 && !v.other_header_bad,
	       "newer header (copy 2) wins");
	mkheader(h1, 9, false);
	tap_ok(!headers(&v) && v.header == 1 && v.data_write_guid[0] == 9,
	       "newer header (copy 1) wins");
	h1[100] ^= 1;
	tap_ok(!headers(&v) && v.header == 2 && v.other_header_bad,
	       "damaged newer copy: the older one is used");
	h2[4] ^= 1;
	tap_ok(headers(&v) == -EINVAL, "both copies damaged: refused");
	mkheader(h1, 1, false);
	((struct vhdx_header *)h1)->version = cpu_to_le16(2);
	put_crc(h1, 4096, 4);
	tap_ok(headers(&v) == -EINVAL, "version 2 header is not valid");
	mkheader(h1, 1, true);
	mkheader(h2, 2, false);
	tap_ok(!headers(&v) && v.header == 2 && vhdx_guid_is_zero(v.log_guid),
	       "log fields checked only when a log GUID is set");
	((struct vhdx_header *)h1)->log_offset = cpu_to_le64(MiB + 4096);
	put_crc(h1, 4096, 4);
	mkheader(h2, 0, true);
	h2[4] ^= 1;
	tap_ok(headers(&v) == -EINVAL, "log not on a 1 MiB boundary: header invalid");
	mkheader(h1, 1, true);
	tap_ok(!headers(&v) && v.log_guid[3] == 0x42 && v.log_length == MiB,
	       "dirty header read");
	memcpy(ident, "vhdxfilf", 8);
	tap_ok(headers(&v) == -EINVAL, "bad file signature refused");
	memcpy(ident, "vhdxfile", 8);
}

static struct vhdx mkvhdx(u32 block, u32 lss, bool parent)
{
	struct vhdx v = {
		.dev_bytes = 1024 * MiB, .block_size = block, .logical_sector = lss,
		.has_parent = parent, .bat_offset = 3 * MiB,
	};

	v.block_shift = ilog2(block >> 9);
	v.chunk_ratio = (u32)(((u64)VHDX_CHUNK_SECTORS * lss) / block);
	return v;
}

static void test_bat(void)
{
	struct vhdx v = mkvhdx(32 * MiB, 512, false), d = mkvhdx(2 * MiB, 512, true);
	u64 sector = 0, pos = 0;
	bool partial;

	tap_is(v.chunk_ratio, 128, "chunk ratio, 512-byte sectors, 32 MiB blocks");
	tap_is(vhdx_bat_index(&v, 127), 127, "block 127 before the first bitmap entry");
	tap_is(vhdx_bat_index(&v, 128), 129, "block 128 after it");
	tap_is(vhdx_bitmap_index(&v, 200), 257, "bitmap of chunk 1");
	v = mkvhdx(MiB, 4096, false);
	tap_is(v.chunk_ratio, 32768, "chunk ratio, 4096-byte sectors, 1 MiB blocks");
	v = mkvhdx(32 * MiB, 512, false);

	tap_is(vhdx_decode_payload(&v, 0, &sector, &partial), VDISK_UNALLOCATED,
	       "not present: unallocated");
	tap_is(vhdx_decode_payload(&v, 1, &sector, &partial), VDISK_ZERO, "undefined: zeros");
	tap_is(vhdx_decode_payload(&v, 2, &sector, &partial), VDISK_ZERO, "zero");
	tap_is(vhdx_decode_payload(&v, 3, &sector, &partial), VDISK_ZERO, "unmapped: zeros");
	tap_is(vhdx_decode_payload(&v, 5, &sector, &partial), VDISK_ZERO,
	       "unmapped (0.95 draft): zeros");
	tap_is(vhdx_decode_payload(&v, 4, &sector, &partial), VDISK_CORRUPT, "state 4 corrupt");
	tap_ok(vhdx_decode_payload(&v, (4ULL << 20) | 6, &sector, &partial) == VDISK_DATA &&
	       sector == 8192 && !partial, "fully present at 4 MiB");
	tap_is(vhdx_decode_payload(&v, 6, &sector, &partial), VDISK_CORRUPT,
	       "fully present at offset 0 (the headers): corrupt");
	tap_is(vhdx_decode_payload(&v, (1024ULL << 20) | 6, &sector, &partial), VDISK_CORRUPT,
	       "fully present past the end of the file: corrupt");
	tap_is(vhdx_decode_payload(&v, (4ULL << 20) | 7, &sector, &partial), VDISK_CORRUPT,
	       "partially present without a parent: corrupt");
	tap_ok(vhdx_decode_payload(&d, (4ULL << 20) | 7, &sector, &partial) == VDISK_DATA &&
	       partial, "partially present in a differencing disk");
	tap_ok(vhdx_decode_bitmap(&d, (9ULL << 20) | 6, &pos) == VDISK_DATA && pos == 9 * MiB,
	       "sector bitmap present at 9 MiB");
	tap_is(vhdx_decode_bitmap(&d, 0, &pos), VDISK_CORRUPT, "absent sector bitmap");
	tap_is(vhdx_decode_bitmap(&d, (1024ULL << 20) | 6, &pos), VDISK_CORRUPT,
	       "sector bitmap running past the end");
}

static void run(const struct vhdx *v, u64 word, unsigned int bit, enum vdisk_state st,
		u32 want, const char *desc)
{
	struct vdisk_mapping m = { .state = VDISK_DATA };

	vhdx_bitmap_run(v, word, bit, &m);
	tap_ok(m.state == st && m.run == want, "%s", desc);
	if (m.state != st || m.run != want)
		printf("#   state %d run %u\n", m.state, m.run);
}

static void test_bitmap(void)
{
	struct vhdx v = mkvhdx(2 * MiB, 512, true), v4 = mkvhdx(2 * MiB, 4096, true);

	run(&v, 0x0f, 0, VDISK_DATA, 4, "bits 0-3 present: run of 4");
	run(&v, 0x0f, 2, VDISK_DATA, 2, "from bit 2: run of 2");
	run(&v, 0x0f, 4, VDISK_UNALLOCATED, 60, "bits 4-63 absent: parent, 60");
	run(&v, ~0ULL, 0, VDISK_DATA, 64, "all present: 64");
	run(&v, ~0ULL, 63, VDISK_DATA, 1, "last bit: 1");
	run(&v, 0, 10, VDISK_UNALLOCATED, 54, "none present from bit 10: 54");
	run(&v, 1ULL << 63, 62, VDISK_UNALLOCATED, 1, "one absent before a present one");
	run(&v4, 0x3, 0, VDISK_DATA, 16, "4 KiB sectors: two bits are 16 sectors");
}

static void overlay_map(const struct vhdx *v, u64 pos, u64 run, enum vdisk_state st,
			u32 want, const u8 *mem, const char *desc)
{
	struct vdisk_mapping m = { .state = VDISK_DATA, .sector = pos / 512 };

	vhdx_overlay_map(v, &m, run);
	tap_ok(m.state == st && m.run == want && (st != VDISK_MEMORY || m.mem == mem),
	       "overlay map: %s", desc);
	if (m.state != st || m.run != want)
		printf("#   state %d run %u\n", m.state, m.run);
}

/* A log of 16 sectors in memory, entries written with their checksums. */
static u8 logbuf[16 * 4096];

static struct vhdx logvhdx(void)
{
	struct vhdx v = { .dev_bytes = 64 * MiB, .log_offset = MiB,
			  .log_length = sizeof(logbuf) };

	v.log_guid[3] = 0x42;
	return v;
}

/*
 * Entry at sector @at: one data descriptor writing page @target (filled
 * with @fill) and, if @zero, a zero descriptor for the page after it.
 * Returns the sector after the entry.
 */
static u32 entry(u32 at, u64 seq, u32 tail, u64 target, u8 fill, bool zero)
{
	u8 e[2 * 4096] = { 0 };
	struct vhdx_log_header *h = (void *)e;
	struct vhdx_log_desc *d = (void *)(e + 64);
	struct vhdx_log_data *ds = (void *)(e + 4096);
	u32 i;

	h->signature = cpu_to_le32(VHDX_LOG_SIGNATURE);
	h->entry_length = cpu_to_le32(sizeof(e));
	h->tail = cpu_to_le32(tail * 4096);
	h->sequence_number = cpu_to_le64(seq);
	h->descriptor_count = cpu_to_le32(zero ? 2 : 1);
	h->log_guid[3] = 0x42;
	h->flushed_file_offset = cpu_to_le64(8 * MiB);
	h->last_file_offset = cpu_to_le64(8 * MiB);
	d->signature = cpu_to_le32(VHDX_DESC_SIGNATURE);
	d->file_offset = cpu_to_le64(target);
	d->sequence_number = cpu_to_le64(seq);
	memset(&d->leading_bytes, fill ^ 0xff, 8);
	memset(&d->trailing_bytes, fill ^ 0x0f, 4);
	if (zero) {
		d[1].signature = cpu_to_le32(VHDX_ZERO_SIGNATURE);
		d[1].leading_bytes = cpu_to_le64(4096);	/* zero length */
		d[1].file_offset = cpu_to_le64(target + 4096);
		d[1].sequence_number = cpu_to_le64(seq);
	}
	ds->signature = cpu_to_le32(VHDX_DATA_SIGNATURE);
	ds->sequence_high = cpu_to_le32((u32)(seq >> 32));
	ds->sequence_low = cpu_to_le32((u32)seq);
	memset(ds->data, fill, sizeof(ds->data));
	put_crc(e, sizeof(e), 4);
	/* Entries may wrap around the end of the ring. */
	for (i = 0; i < 2; i++)
		memcpy(logbuf + (at + i) % 16 * 4096, e + i * 4096, 4096);
	return (at + 2) % 16;
}

static void test_log(void)
{
	struct vhdx v = logvhdx();
	struct vhdx_log_seq seq;
	struct vhdx_overlay ov[8];
	static u64 scratch[512];
	u8 pages[8 * 4096], page[4096];
	const char *why;
	u32 s;

	memset(logbuf, 0, sizeof(logbuf));
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && !seq.entries,
	       "empty log: nothing to replay");

	/* A stale sequence (10, 11) and the active one (20-22, tail at 21). */
	s = entry(0, 10, 0, 4 * MiB, 0xaa, false);
	entry(s, 11, 0, 4 * MiB, 0xab, false);
	s = entry(6, 20, 6, 4 * MiB, 0x01, false);
	s = entry(s, 21, 6, 4 * MiB, 0x02, true);
	entry(s, 22, 8, 4 * MiB + 8192, 0x03, false);
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && seq.entries == 2 &&
	       seq.tail == 8 * 4096 && seq.first_seq == 21 && seq.head_seq == 22 &&
	       seq.descriptors == 3 && seq.data_sectors == 2,
	       "active sequence: newest head, replayed from its tail");
	tap_ok(!vhdx_log_replay(&v, logbuf, &seq, ov, pages, scratch, &why) &&
	       ov[0].offset == 4 * MiB && ov[0].len == 4096 && ov[0].data &&
	       ov[1].offset == 4 * MiB + 4096 && !ov[1].data &&
	       ov[2].offset == 4 * MiB + 8192, "replay: data, zero, data in order");
	tap_ok(pages[0] == 0xfd && pages[7] == 0xfd && pages[8] == 0x02 &&
	       pages[4091] == 0x02 && pages[4092] == 0x0d && pages[4095] == 0x0d,
	       "a data page joins leading bytes, sector data and trailing bytes");

	tap_ok(v.ov == ov && v.ov_n == seq.descriptors, "replay lays the overlay over reads");
	memset(page, 0x77, sizeof(page));
	vhdx_overlay_apply(ov, 3, 4 * MiB + 4096 - 16, page, 64);
	tap_ok(page[0] == 0x02 && page[12] == 0x0d && page[15] == 0x0d && page[16] == 0 &&
	       page[63] == 0 && page[64] == 0x77, "overlay over a range crossing pages");
	vhdx_overlay_apply(ov, 3, 4 * MiB + 8192 - 8, page, 16);
	tap_ok(page[7] == 0 && page[8] == 0xfc && page[15] == 0xfc,
	       "overlay: zero page, then leading bytes of the next");
	overlay_map(&v, 4 * MiB - 4096, 64, VDISK_DATA, 8, NULL, "data up to an overlay page");
	overlay_map(&v, 4 * MiB, 64, VDISK_MEMORY, 8, pages, "data the log rewrote");
	overlay_map(&v, 4 * MiB + 512, 2, VDISK_MEMORY, 2, pages + 512, "inside a page");
	overlay_map(&v, 4 * MiB + 4096, 64, VDISK_MEMORY, 8, NULL, "data the log zeroed");
	overlay_map(&v, 4 * MiB + 12288, 64, VDISK_DATA, 64, NULL, "data after the overlay");
	tap_ok(vhdx_overlay_in(&v, 3 * MiB, MiB + 1) && vhdx_overlay_in(&v, 4 * MiB, MiB) &&
	       vhdx_overlay_in(&v, 4 * MiB + 12287, 1) && !vhdx_overlay_in(&v, 3 * MiB, MiB) &&
	       !vhdx_overlay_in(&v, 4 * MiB + 12288, MiB),
	       "a block the log rewrote in part, and those apart from it");

	/* Damage the head: the sequence ends at 21, whose tail is 6. */
	logbuf[10 * 4096 + 100] ^= 1;
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && seq.head_seq == 21 &&
	       seq.first_seq == 20 && seq.entries == 2, "damaged head: previous entry heads");
	logbuf[10 * 4096 + 100] ^= 1;
	/* A data sector whose sequence does not match invalidates its entry. */
	logbuf[11 * 4096 + 4] ^= 1;
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && seq.head_seq == 21,
	       "data sector of another sequence: entry invalid");
	logbuf[11 * 4096 + 4] ^= 1;

	/* Tail outside the run: not a complete sequence. */
	memset(logbuf, 0, sizeof(logbuf));
	entry(0, 30, 4, 4 * MiB, 0x05, false);
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && !seq.entries,
	       "tail outside the sequence: nothing valid");

	/* A sequence wrapping around the end of the ring. */
	memset(logbuf, 0, sizeof(logbuf));
	s = entry(13, 40, 13, 5 * MiB, 0x06, false);
	s = entry(s, 41, 13, 5 * MiB, 0x07, false);
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && seq.entries == 2 &&
	       seq.tail == 13 * 4096 && seq.head_seq == 41, "sequence wrapping the ring");

	/* The log may not write past the file or into itself. */
	memset(logbuf, 0, sizeof(logbuf));
	entry(0, 50, 0, 64 * MiB, 0x08, false);
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) && seq.entries == 1 &&
	       vhdx_log_replay(&v, logbuf, &seq, ov, pages, scratch, &why) == -EINVAL,
	       "replay past the end of the file refused");
	entry(0, 51, 0, MiB + 4096, 0x08, false);
	tap_ok(!vhdx_log_find(&v, logbuf, &seq, &why) &&
	       vhdx_log_replay(&v, logbuf, &seq, ov, pages, scratch, &why) == -EINVAL,
	       "replay into the log refused");
	v.dev_bytes = 4 * MiB;
	tap_ok(vhdx_log_find(&v, logbuf, &seq, &why) == -EINVAL,
	       "file shorter than the log's flushed offset refused");
}

static bool ov_is(const struct vhdx_overlay *o, u64 off, u64 len, const u8 *data)
{
	return o->offset == off && o->len == len && o->data == data;
}

/* The replayed ranges as an index: sorted, apart, later ones winning. */
static void test_index(void)
{
	static u8 pa[16384], pc[8192], pd[4096];
	struct vhdx_overlay raw[] = {
		{ 0, 16384, pa },		/* the oldest */
		{ 4096, 4096, NULL },
		{ 12288, 8192, pc },
		{ 0, 4096, pd },		/* newer than pa at 0 */
		{ 40960, 4096, NULL },
		{ 45056, 4096, NULL },		/* zeros next to zeros */
	};
	static struct vhdx_overlay out[2 * 2048 + 1];
	static u64 scratch[2048 * 7];
	struct vhdx v = { .dev_bytes = 64 * MiB };
	static struct vhdx_overlay many[2048];
	static u8 mpages[256 * 4096];
	static int model[256];
	u8 buf[8192];
	u32 n, i, j, bad = 0;

	n = vhdx_overlay_index(raw, 6, out, scratch);
	tap_ok(n == 5 && ov_is(&out[0], 0, 4096, pd) && ov_is(&out[1], 4096, 4096, NULL) &&
	       ov_is(&out[2], 8192, 4096, pa + 8192) && ov_is(&out[3], 12288, 8192, pc) &&
	       ov_is(&out[4], 40960, 8192, NULL),
	       "index: overlaps cut, later ranges win, neighbours joined");
	tap_ok(vhdx_overlay_index(raw, 0, out, scratch) == 0, "index of no range is empty");

	v.ov = out;
	v.ov_n = n;
	memset(pa, 0xa, sizeof(pa));
	memset(pc, 0xc, sizeof(pc));
	memset(buf, 0x77, sizeof(buf));
	vhdx_overlay_apply(out, n, 4096 - 8, buf, 8192);
	tap_ok(buf[7] == 0 && buf[8] == 0 && buf[4103] == 0 && buf[4104] == 0xa &&
	       buf[8191] == 0xa, "apply: pages from the newest ranges");
	memset(buf, 0x77, sizeof(buf));
	vhdx_overlay_apply(out, n, 20480, buf, 8192);
	tap_ok(buf[0] == 0x77 && buf[8191] == 0x77, "apply: a gap is left alone");
	overlay_map(&v, 0, 64, VDISK_MEMORY, 8, pd, "index: the newest page");
	overlay_map(&v, 8192 + 512, 64, VDISK_MEMORY, 7, pa + 8192 + 512,
		    "index: older data up to a newer range");
	overlay_map(&v, 12288, 64, VDISK_MEMORY, 16, pc, "index: joined range");
	overlay_map(&v, 20480, 64, VDISK_DATA, 40, NULL, "index: gap up to the next range");
	overlay_map(&v, 49152, 64, VDISK_DATA, 64, NULL, "index: after the last range");

	/* Random overlapping ranges against a page-by-page model. */
	srand(7);
	for (i = 0; i < 256; i++)
		model[i] = -1;
	for (i = 0; i < 2048; i++) {
		u32 first = rand() % 256, len = 1 + rand() % 8;

		if (first + len > 256)
			len = 256 - first;
		many[i] = (struct vhdx_overlay){ (u64)first * 4096, (u64)len * 4096,
						 rand() % 3 ? mpages + first * 4096 : NULL };
		for (j = first; j < first + len; j++)
			model[j] = i;
	}
	n = vhdx_overlay_index(many, 2048, out, scratch);
	v.ov_n = n;
	for (i = 1; i < n; i++)
		bad += out[i].offset < out[i - 1].offset + out[i - 1].len;
	for (i = 0; i < 256; i++) {
		struct vdisk_mapping m = { .state = VDISK_DATA, .sector = i * 8 };
		const struct vhdx_overlay *o = model[i] < 0 ? NULL : &many[model[i]];

		vhdx_overlay_map(&v, &m, 8);
		if (!o)
			bad += m.state != VDISK_DATA || m.run != 8;
		else
			bad += m.state != VDISK_MEMORY || m.run < 1 ||
			       m.mem != (o->data ? o->data + (i * 4096 - o->offset) : NULL);
	}
	tap_ok(!bad && n <= 2 * 2048,
	       "index of 2048 random ranges: %u apart ranges, each page the newest's", n);
}

/* A log entry of @count zero descriptors, one 4 KiB page each. */
static void test_log_cap(void)
{
	u32 count, sectors, i, len = 3 * MiB;
	u8 *log = calloc(1, len);
	struct vhdx v = { .dev_bytes = 64 * MiB, .log_offset = MiB, .log_length = len };
	struct vhdx_log_seq seq;
	struct vhdx_overlay *ov;
	const char *why = NULL;
	void *scratch;
	u8 page;

	v.log_guid[3] = 0x42;
	for (count = VHDX_MAX_LOG_DESCRIPTORS; count <= VHDX_MAX_LOG_DESCRIPTORS + 1; count++) {
		struct vhdx_log_header *h = (void *)log;
		struct vhdx_log_desc *d = (void *)(log + 64);

		memset(log, 0, len);
		sectors = (64 + 32 * count + 4095) / 4096;
		h->signature = cpu_to_le32(VHDX_LOG_SIGNATURE);
		h->entry_length = cpu_to_le32(sectors * 4096);
		h->sequence_number = cpu_to_le64(9);
		h->descriptor_count = cpu_to_le32(count);
		h->log_guid[3] = 0x42;
		h->flushed_file_offset = cpu_to_le64(8 * MiB);
		h->last_file_offset = cpu_to_le64(8 * MiB);
		for (i = 0; i < count; i++) {
			d[i].signature = cpu_to_le32(VHDX_ZERO_SIGNATURE);
			d[i].leading_bytes = cpu_to_le64(4096);
			d[i].file_offset = cpu_to_le64(4 * MiB + (u64)(i % 1024) * 4096);
			d[i].sequence_number = cpu_to_le64(9);
		}
		put_crc(log, sectors * 4096, 4);
		if (count > VHDX_MAX_LOG_DESCRIPTORS) {
			tap_ok(vhdx_log_find(&v, log, &seq, &why) == -EFBIG &&
			       strstr(why, "65536"), "more than %u descriptors refused: %s",
			       VHDX_MAX_LOG_DESCRIPTORS, why);
			break;
		}
		tap_ok(!vhdx_log_find(&v, log, &seq, &why) && seq.descriptors == count,
		       "%u descriptors: the cap is allowed", count);
		ov = calloc(vhdx_overlay_room(&seq), sizeof(*ov));
		scratch = malloc(vhdx_replay_scratch_bytes(&seq));
		tap_ok(!vhdx_log_replay(&v, log, &seq, ov, &page, scratch, &why) &&
		       v.ov_n == 1 && ov_is(&ov[0], 4 * MiB, 4 * MiB, NULL),
		       "%u overlapping zero descriptors index as one range", count);
		free(scratch);
		free(ov);
	}
	free(log);
}

static void test_locator(void)
{
	u8 loc[256] = { 0 };
	struct vhdx_locator_header *lh = (void *)loc;
	struct vhdx_locator_entry *e = (void *)(lh + 1);
	static const u8 type[16] = {
		0xb7, 0xef, 0x4a, 0xb0, 0x9e, 0xd1, 0x81, 0x4a,
		0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13,
	};
	const char *why, *key = "relative_path";
	u32 vlen = 0, i;

	memcpy(lh->locator_type, type, 16);
	lh->key_value_count = cpu_to_le16(1);
	e->key_offset = cpu_to_le32(100);
	e->key_length = cpu_to_le16(2 * strlen(key));
	e->value_offset = cpu_to_le32(160);
	e->value_length = cpu_to_le16(4);
	for (i = 0; key[i]; i++)
		loc[100 + 2 * i] = key[i];
	loc[160] = 'a';
	loc[162] = 'b';
	tap_ok(!vhdx_locator_check(loc, sizeof(loc), &why), "locator accepted");
	tap_ok(vhdx_locator_find(loc, sizeof(loc), "relative_path", &vlen) == 160 &&
	       vlen == 4, "key found");
	tap_is(vhdx_locator_find(loc, sizeof(loc), "relative_pat", &vlen), 0,
	       "a prefix of a key is not the key");
	e->value_offset = cpu_to_le32(254);
	tap_ok(vhdx_locator_check(loc, sizeof(loc), &why) == -EINVAL,
	       "value past the locator refused");
	e->value_offset = cpu_to_le32(160);
	e->key_length = cpu_to_le16(3);
	tap_ok(vhdx_locator_check(loc, sizeof(loc), &why) == -EINVAL,
	       "odd UTF-16 length refused");
	lh->key_value_count = cpu_to_le16(20);
	tap_ok(vhdx_locator_check(loc, sizeof(loc), &why) == -EINVAL,
	       "more entries than fit refused");
	loc[0] ^= 1;
	tap_ok(vhdx_locator_check(loc, sizeof(loc), &why) == -EOPNOTSUPP,
	       "unknown locator type refused");
}

int main(void)
{
	test_headers();
	test_bat();
	test_bitmap();
	test_log();
	test_index();
	test_log_cap();
	test_locator();
	return tap_done();
}
