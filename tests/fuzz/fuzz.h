/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the libFuzzer harnesses: the input is a whole image file held
 * in memory.  The table reader aborts on any read the core did not check
 * against the file's size, so a missing bounds check is a crash.
 */
#ifndef VDISK_FUZZ_H
#define VDISK_FUZZ_H

#include <stdlib.h>

#include "vdisk_fmt.h"
#include "vdisk_inflate.h"

struct fuzz_img {
	const u8 *data;
	size_t size;		/* bytes the decoders were told about */
};

static int fuzz_read(void *ctx, u64 pos, void *buf, unsigned int len)
{
	const struct fuzz_img *f = ctx;

	if (pos > f->size || len > f->size - pos)
		abort();	/* the core let an unchecked offset through */
	memcpy(buf, f->data + pos, len);
	return 0;
}

/*
 * Use a mapping as the target would: data ranges are checked there against
 * the device (vdisk_apply), compressed units are decompressed.
 */
static void fuzz_use(const struct fuzz_img *f, const struct vdisk_mapping *m,
		     u64 unit_bytes)
{
	static u8 out[4U << 20];

	if (m->state == VDISK_COMPRESSED && m->clen && unit_bytes <= sizeof(out)) {
		u64 start = m->sector * 512 + m->skip;

		if (start < f->size) {
			size_t n = f->size - start < m->clen ? f->size - start : m->clen;

			vdisk_inflate(NULL, VDISK_RAW_DEFLATE, f->data + start, n, out,
				      unit_bytes);
			vdisk_unzstd(NULL, 0, f->data + start, n, out, unit_bytes);
		}
	}
}

#endif
