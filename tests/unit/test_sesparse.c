// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the seSparse decoder: the constant and volatile headers
 * field by field, directory entries, and the four grain table entry types
 * with the split grain index.
 */
#include "sesparse.h"
#include "tap.h"

#define DEV 100000ULL

static u8 buf[1024];

/* The layout ESXi writes (as in the corpus image). */
static void good(void)
{
	static const u64 v[] = {
		SESPARSE_CONST_MAGIC, SESPARSE_VERSION, 0x100000, 8, 64, 0, 0, 0, 0, 0,
		1, 1, 2, 2, 2048, 2048, 4096, 2048, 6144, 2048, 8192, 2048,
		10240, 2048, 12288, 0x100000,
	};
	unsigned int i;

	memset(buf, 0, sizeof(buf));
	for (i = 0; i < ARRAY_SIZE(v); i++)
		*(__le64 *)(buf + 8 * i) = cpu_to_le64(v[i]);
	*(__le64 *)(buf + 512) = cpu_to_le64(SESPARSE_VOLATILE_MAGIC);
}

static int parse(struct sesparse *ss)
{
	const char *why = NULL;

	return sesparse_parse_headers(buf, DEV, ss, &why);
}

static void field(unsigned int idx, u64 val, int want, const char *desc)
{
	struct sesparse ss;

	good();
	*(__le64 *)(buf + 8 * idx) = cpu_to_le64(val);
	tap_is(parse(&ss), want, desc);
}

int main(void)
{
	struct sesparse ss;
	u64 pos = 0, sec = 0;

	printf("TAP version 13\n");
	good();
	tap_is(parse(&ss), 0, "ESXi's layout accepted");
	tap_ok(ss.capacity == 0x100000 && ss.gd_entries == 32 && ss.gd_sector == 4096 &&
	       ss.gt_sector == 6144 && ss.grain_sector == 12288, "fields decoded");

	field(0, 0xcafebabf, -EINVAL, "bad magic refused");
	field(1, 0x200000002ULL, -EOPNOTSUPP, "other version refused");
	field(2, 0, -EINVAL, "zero capacity refused");
	field(2, 1ULL << 51, -EINVAL, "capacity over 512 PiB refused");
	field(3, 16, -EOPNOTSUPP, "8 KiB grains refused");
	field(4, 128, -EOPNOTSUPP, "8192-entry grain tables refused");
	field(5, 1, -EOPNOTSUPP, "unknown flags refused");
	field(7, 1, -EINVAL, "non-zero reserved field refused");
	field(10, 2, -EINVAL, "volatile header elsewhere refused");
	field(16, DEV, -EINVAL, "grain directory past the end refused");
	field(16, 1, -EINVAL, "grain directory over the headers refused");
	field(17, 0, -EINVAL, "grain directory too small refused");
	field(18, ~0ULL, -EINVAL, "grain tables region wrapping refused");
	field(24, 0, -EINVAL, "grains region over the headers refused");
	field(2, 4096ULL * 8 * 2048 * 64, 0, "capacity filling a 2048-sector directory");
	field(2, 4096ULL * 8 * 2048 * 64 + 1, -EINVAL, "... and one sector more refused");

	good();
	*(__le64 *)(buf + 512) = 0;
	tap_is(parse(&ss), -EINVAL, "bad volatile magic refused");
	good();
	*(__le64 *)(buf + 512 + 24) = cpu_to_le64(1);
	tap_is(parse(&ss), -EOPNOTSUPP, "dirty image (journal to replay) refused");

	good();
	parse(&ss);
	tap_is(sesparse_gte_pos(&ss, 0, 5, &pos), VDISK_UNALLOCATED, "GDE 0: no table");
	tap_is(sesparse_gte_pos(&ss, 0x1000000000000003ULL, 5, &pos), VDISK_DATA,
	       "GDE of table 3");
	tap_is(pos, (6144 + 3 * 64) * 512 + 40, "... entry 5 of it");
	tap_is(sesparse_gte_pos(&ss, 0x2000000000000003ULL, 5, &pos), VDISK_CORRUPT,
	       "GDE with a bad top half is corrupt");
	tap_is(sesparse_gte_pos(&ss, 0x1000000000000020ULL, 0, &pos), VDISK_CORRUPT,
	       "GDE of a table past the region is corrupt");
	tap_is(sesparse_gte_pos(&ss, 0x100000000000001fULL, 0, &pos), VDISK_DATA,
	       "GDE of the region's last table");
	tap_is(sesparse_gte_pos(&ss, 0x1000000000000000ULL, 4096, &pos), VDISK_CORRUPT,
	       "index past the table is corrupt");

	tap_is(sesparse_decode_gte(&ss, 0, &sec), VDISK_UNALLOCATED, "type 0: unallocated");
	tap_is(sesparse_decode_gte(&ss, 0x0000000000000001ULL, &sec), VDISK_CORRUPT,
	       "type 0 with other bits is corrupt");
	tap_is(sesparse_decode_gte(&ss, 0x1000000000000000ULL, &sec), VDISK_ZERO,
	       "type 1 (unmapped) reads zeros");
	tap_is(sesparse_decode_gte(&ss, 0x2000000000000000ULL, &sec), VDISK_ZERO,
	       "type 2 (zero) reads zeros");
	tap_is(sesparse_decode_gte(&ss, 0x3000000000000000ULL, &sec), VDISK_DATA,
	       "type 3 index 0");
	tap_is(sec, 12288, "... is the first grain");
	tap_is(sesparse_decode_gte(&ss, 0x3abc000000000001ULL, &sec), VDISK_DATA,
	       "type 3 with both index halves");
	tap_is(sec, 12288 + 0x1abcULL * 8, "... index (1 << 12) | 0xabc");
	tap_is(sesparse_decode_gte(&ss, 0x3fff0000000000ffULL, &sec), VDISK_CORRUPT,
	       "grain past the device is corrupt");
	tap_is(sesparse_decode_gte(&ss, 0x3000ffffffffffffULL, &sec), VDISK_CORRUPT,
	       "grain past the grains region is corrupt");
	tap_is(sesparse_decode_gte(&ss, 0x4000000000000000ULL, &sec), VDISK_CORRUPT,
	       "type 4 is corrupt");
	tap_is(sesparse_decode_gte(&ss, 0xf000000000000000ULL, &sec), VDISK_CORRUPT,
	       "type 15 is corrupt");
	return tap_done();
}
