// SPDX-License-Identifier: GPL-2.0
/*
 * Partition tables of a mapped disk: MBR primary and logical partitions and
 * GPT, numbered as Linux and kpartx number them (logical ones from 5, GPT
 * ones by their entry).  The disk's logical block size is the tables' LBA
 * size.
 */
#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "part.h"
#include "util.h"
#include "vdisk_compat.h"

#define GPT_MAX_ENTRY	4096
#define GPT_MAX_COUNT	1024	/* entries looked at when listing */
#define EBR_MAX		128	/* logical partitions followed */

struct table {
	int fd;
	uint32_t ss;		/* logical block size */
	uint64_t blocks;	/* disk size in them */
	uint8_t mbr[512];
	bool gpt;
	uint64_t gpt_table;	/* GPT entry array, in blocks */
	uint32_t gpt_count, gpt_esize;
	uint64_t ext;		/* MBR: the extended partition's start, or 0 */
};

static bool is_extended(uint8_t type)
{
	return type == 0x05 || type == 0x0f || type == 0x85;
}

/*
 * Read the MBR and, behind a protective one, the GPT header.  1: none;
 * -1: unreadable or damaged, said in one line naming @what unless NULL.
 */
static int table_read(int fd, const char *what, struct table *t)
{
	uint8_t *hdr;
	uint64_t bytes;
	unsigned int i;
	int ssz, r = 0;

	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->ss = 512;
	if (ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
		t->ss = (uint32_t)ssz;
	if (ioctl(fd, BLKGETSIZE64, &bytes) || pread_full(fd, t->mbr, sizeof(t->mbr), 0))
		return what ? err_at(what, "cannot read the partition table: %s",
				     strerror(errno)) : -1;
	t->blocks = bytes / t->ss;
	if (t->mbr[510] != 0x55 || t->mbr[511] != 0xaa)
		return 1;
	for (i = 0; i < 4; i++) {
		const uint8_t *p = t->mbr + 446 + 16 * i;

		t->gpt |= p[4] == 0xee;
		if (is_extended(p[4]) && !t->ext)
			t->ext = get_unaligned_le32(p + 8);
	}
	if (!t->gpt)
		return 0;
	hdr = xmalloc(t->ss);
	if (pread_full(fd, hdr, t->ss, t->ss) || memcmp(hdr, "EFI PART", 8)) {
		r = what ? err_at(what, "protective MBR but no GPT header") : -1;
	} else {
		t->gpt_table = get_unaligned_le64(hdr + 72);
		t->gpt_count = get_unaligned_le32(hdr + 80);
		t->gpt_esize = get_unaligned_le32(hdr + 84);
		if (t->gpt_esize < 128 || t->gpt_esize > GPT_MAX_ENTRY || t->gpt_esize % 8)
			r = what ? err_at(what, "GPT entry size %u is not valid",
					  t->gpt_esize) : -1;
	}
	free(hdr);
	return r;
}

/* Logical partition @n (from 5): walk the chain of extended boot records. */
static int mbr_logical(const struct table *t, unsigned int n, uint64_t *first,
		       uint64_t *count)
{
	uint64_t ebr = t->ext;
	uint8_t rec[512];
	unsigned int i;

	for (i = 5; t->ext && i < 5 + EBR_MAX; i++) {
		if (ebr >= t->blocks ||
		    pread_full(t->fd, rec, sizeof(rec), ebr * t->ss) ||
		    rec[510] != 0x55 || rec[511] != 0xaa)
			return 1;
		if (i == n) {
			*first = ebr + get_unaligned_le32(rec + 446 + 8);
			*count = get_unaligned_le32(rec + 446 + 12);
			return rec[446 + 4] && *count ? 0 : 1;
		}
		if (!is_extended(rec[462 + 4]) || !get_unaligned_le32(rec + 462 + 8))
			return 1;
		ebr = t->ext + get_unaligned_le32(rec + 462 + 8);
	}
	return 1;
}

/*
 * Partition @n: 0 with its first block and block count; 1 if not in use;
 * -1 on a read error.
 */
static int entry(const struct table *t, unsigned int n, uint64_t *first, uint64_t *count)
{
	static const uint8_t unused[16];	/* an unused entry's type GUID */
	uint8_t e[GPT_MAX_ENTRY];
	const uint8_t *p;

	if (t->gpt) {
		if (!n || n > t->gpt_count)
			return 1;
		if (pread_full(t->fd, e, t->gpt_esize,
			       t->gpt_table * t->ss + (uint64_t)(n - 1) * t->gpt_esize))
			return -1;
		if (!memcmp(e, unused, sizeof(unused)))
			return 1;
		*first = get_unaligned_le64(e + 32);
		*count = get_unaligned_le64(e + 40) - *first + 1;
		return get_unaligned_le64(e + 40) < *first ? 1 : 0;
	}
	if (n > 4)
		return mbr_logical(t, n, first, count);
	p = t->mbr + 446 + 16 * (n - 1);
	if (!n || !p[4] || is_extended(p[4]) || !get_unaligned_le32(p + 12))
		return 1;
	*first = get_unaligned_le32(p + 8);
	*count = get_unaligned_le32(p + 12);
	return 0;
}

static bool inside(const struct table *t, uint64_t first, uint64_t count)
{
	return first && count && first < t->blocks && count <= t->blocks - first;
}

static void to_sectors(const struct table *t, uint64_t first, uint64_t count,
		       uint64_t *start, uint64_t *len)
{
	*start = first * (t->ss / 512);
	*len = count * (t->ss / 512);
}

int part_find(int fd, const char *what, unsigned int n, uint64_t *start,
	      uint64_t *len)
{
	uint64_t first, count;
	struct table t;
	int r;

	if (!n)
		return err_at(what, "partitions are numbered from 1");
	r = table_read(fd, what, &t);
	if (r)
		return r > 0 ? err_at(what, "no partition table (MBR or GPT)") : -1;
	if (t.gpt && n > t.gpt_count)
		return err_at(what, "no partition %u (the GPT has %u entries)", n, t.gpt_count);
	r = entry(&t, n, &first, &count);
	if (r < 0)
		return err_at(what, "cannot read partition %u: %s", n, strerror(errno));
	if (r)
		return err_at(what, "%s partition %u is not in use", t.gpt ? "GPT" : "MBR", n);
	if (!inside(&t, first, count))
		return err_at(what, "partition %u lies outside the disk", n);
	to_sectors(&t, first, count, start, len);
	return 0;
}

int part_list(int fd, struct vd_part *parts, unsigned int max)
{
	unsigned int n, last, found = 0;
	uint64_t first, count;
	struct table t;

	/* A disk whose first sectors cannot be read has no partitions to list. */
	if (table_read(fd, NULL, &t))
		return 0;
	last = t.gpt ? (t.gpt_count < GPT_MAX_COUNT ? t.gpt_count : GPT_MAX_COUNT) :
		4 + EBR_MAX;
	for (n = 1; n <= last && found < max; n++) {
		/* What cannot be read or does not fit is skipped, as kpartx does. */
		if (entry(&t, n, &first, &count) || !inside(&t, first, count))
			continue;
		parts[found].n = n;
		to_sectors(&t, first, count, &parts[found].start, &parts[found].len);
		found++;
	}
	return (int)found;
}
