// SPDX-License-Identifier: GPL-2.0
/*
 * Partition tables of a mapped disk, to map one partition (vdisk create
 * --partition): MBR primary partitions and GPT.  The disk's logical block
 * size is the tables' LBA size.
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

static int gpt_find(int fd, const char *what, unsigned int n, uint32_t ss,
		    uint64_t *first, uint64_t *last)
{
	static const uint8_t unused[16];	/* an unused entry's type GUID */
	uint8_t *hdr = xmalloc(ss), *e = NULL;
	uint32_t count, esize;
	uint64_t table;
	int r = -1;

	if (pread_full(fd, hdr, ss, ss) || memcmp(hdr, "EFI PART", 8)) {
		err_at(what, "protective MBR but no GPT header");
		goto out;
	}
	table = get_unaligned_le64(hdr + 72);
	count = get_unaligned_le32(hdr + 80);
	esize = get_unaligned_le32(hdr + 84);
	if (esize < 128 || esize > GPT_MAX_ENTRY || esize % 8) {
		err_at(what, "GPT entry size %u is not valid", esize);
		goto out;
	}
	if (n > count) {
		err_at(what, "no partition %u (the GPT has %u entries)", n, count);
		goto out;
	}
	e = xmalloc(esize);
	if (pread_full(fd, e, esize, table * ss + (uint64_t)(n - 1) * esize)) {
		err_at(what, "cannot read GPT entry %u: %s", n, strerror(errno));
		goto out;
	}
	*first = get_unaligned_le64(e + 32);
	*last = get_unaligned_le64(e + 40);
	r = 0;
	if (!memcmp(e, unused, sizeof(unused)))
		r = err_at(what, "GPT partition %u is not in use", n);
out:
	free(hdr);
	free(e);
	return r;
}

int part_find(int fd, const char *what, unsigned int n, uint64_t *start,
	      uint64_t *len)
{
	uint8_t mbr[512];
	uint64_t first, last, bytes;
	uint32_t ss = 512;
	unsigned int i;
	int ssz;

	if (ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz > 0)
		ss = (uint32_t)ssz;
	if (ioctl(fd, BLKGETSIZE64, &bytes) || pread_full(fd, mbr, sizeof(mbr), 0))
		return err_at(what, "cannot read the partition table: %s", strerror(errno));
	if (mbr[510] != 0x55 || mbr[511] != 0xaa)
		return err_at(what, "no partition table (MBR or GPT)");
	for (i = 0; i < 4 && mbr[446 + 16 * i + 4] != 0xee; i++)
		;
	if (!n)
		return err_at(what, "partitions are numbered from 1");
	if (i < 4) {
		if (gpt_find(fd, what, n, ss, &first, &last))
			return -1;
	} else {
		const uint8_t *p = mbr + 446 + 16 * (n - 1);

		if (n > 4)
			return err_at(what, "partition %u: only MBR primary partitions (1-4) map",
				      n);
		if (!p[4] || !get_unaligned_le32(p + 12))
			return err_at(what, "MBR partition %u is not in use", n);
		first = get_unaligned_le32(p + 8);
		last = first + get_unaligned_le32(p + 12) - 1;
	}
	if (!first || last < first || last >= bytes / ss)
		return err_at(what, "partition %u lies outside the disk", n);
	*start = first * (ss / 512);
	*len = (last - first + 1) * (ss / 512);
	return 0;
}
