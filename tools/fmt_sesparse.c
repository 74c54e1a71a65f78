// SPDX-License-Identifier: GPL-2.0
/*
 * seSparse extents in the helper; decoding is the core's
 * (dm-vdisk/core/sesparse.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "sesparse.h"

struct sesparse_priv {
	struct sesparse ss;
	__le64 *gd;
};

static bool sesparse_probe(const uint8_t *buf, size_t len)
{
	return len >= 8 && get_unaligned_le64(buf) == SESPARSE_CONST_MAGIC;
}

static int sesparse_open(struct vd_image *im)
{
	struct sesparse_priv *p = xcalloc(1, sizeof(*p));
	uint8_t hdr[1024];
	const char *why;

	im->priv = p;
	if (image_read(im, hdr, sizeof(hdr), 0, "seSparse headers"))
		return -1;
	if (sesparse_parse_headers(hdr, im->sectors, &p->ss, &why))
		return err_at(im->path, "%s", why);
	p->gd = xmalloc(sesparse_gd_bytes(&p->ss));
	if (image_read(im, p->gd, sesparse_gd_bytes(&p->ss), p->ss.gd_sector * 512,
		       "grain directory"))
		return -1;
	im->capacity = p->ss.capacity;
	im->io_sectors = SESPARSE_GRAIN_SECTORS;
	im->subformat = "seSparse extent";
	return 0;
}

static void sesparse_close(struct vd_image *im)
{
	struct sesparse_priv *p = im->priv;

	if (p)
		free(p->gd);
	free(p);
	im->priv = NULL;
}

static void sesparse_info(struct vd_image *im, struct kv_out *o)
{
	const struct sesparse *ss = &((struct sesparse_priv *)im->priv)->ss;

	kv_u64(o, "grain_size", SESPARSE_GRAIN_SECTORS * 512);
	kv_u64(o, "grain_table_entries", SESPARSE_GT_ENTRIES);
	kv_u64(o, "grain_directory_entries", ss->gd_entries);
	kv_u64(o, "grain_directory_sector", ss->gd_sector);
	kv_u64(o, "grain_tables_sector", ss->gt_sector);
	kv_u64(o, "grains_sector", ss->grain_sector);
}

static int sesparse_map_sector(struct vd_image *im, uint64_t vsec,
			       struct vdisk_mapping *m)
{
	struct sesparse_priv *p = im->priv;

	return sesparse_map(&p->ss, p->gd, vsec, image_read_fn, im, m);
}

static void sesparse_check(struct vd_image *im, struct vd_check *c)
{
	struct sesparse_priv *p = im->priv;
	const struct sesparse *ss = &p->ss;
	__le64 *gt = xmalloc(SESPARSE_GT_ENTRIES * 8);
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	struct vd_seen seen = { 0 };
	uint32_t i, j;
	u64 pos, sector;

	c->total = DIV_ROUND_UP(ss->capacity, SESPARSE_GRAIN_SECTORS);
	ranges_add(&rs, 0, 2, "header", 0);
	ranges_add(&rs, ss->gd_sector, DIV_ROUND_UP(sesparse_gd_bytes(ss), 512),
		   "grain directory", 0);
	for (i = 0; i < ss->gd_entries; i++) {
		switch (sesparse_gte_pos(ss, le64_to_cpu(p->gd[i]), 0, &pos)) {
		case VDISK_UNALLOCATED:
			continue;
		case VDISK_DATA:
			break;
		default:
			check_error(c, "grain directory entry %u (%#llx) is bad", i,
				    (unsigned long long)le64_to_cpu(p->gd[i]));
			continue;
		}
		ranges_add(&rs, pos / 512, SESPARSE_GT_SECTORS, "grain table", i);
		/* One table named twice overlaps itself: checked once. */
		if (seen_add(&seen, pos))
			continue;
		if (pread_full(im->fd, gt, SESPARSE_GT_ENTRIES * 8, pos)) {
			check_error(c, "cannot read grain table %u", i);
			continue;
		}
		for (j = 0; j < SESPARSE_GT_ENTRIES; j++) {
			u64 grain = (u64)i * SESPARSE_GT_ENTRIES + j;

			if (grain >= c->total)
				break;
			switch (sesparse_decode_gte(ss, le64_to_cpu(gt[j]), &sector)) {
			case VDISK_DATA:
				c->allocated++;
				if (vdisk_range_ok(sector, SESPARSE_GRAIN_SECTORS,
						   ss->dev_sectors)) {
					ranges_add(&rs, sector, SESPARSE_GRAIN_SECTORS,
						   "grain", grain);
					break;
				}
				fallthrough;
			case VDISK_CORRUPT:
				check_error(c, "grain %llu: bad entry %#llx",
					    (unsigned long long)grain,
					    (unsigned long long)le64_to_cpu(gt[j]));
				break;
			case VDISK_ZERO:
				c->zero++;
				break;
			default:
				break;
			}
		}
	}
	ranges_check(&rs, c);
	ranges_free(&rs);
	seen_free(&seen);
	free(gt);
}

const struct vd_format vd_sesparse_format = {
	.name = "sesparse",
	.probe = sesparse_probe,
	.open = sesparse_open,
	.info = sesparse_info,
	.check = sesparse_check,
	.map = sesparse_map_sector,
	.close = sesparse_close,
};
