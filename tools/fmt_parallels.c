// SPDX-License-Identifier: GPL-2.0
/*
 * Parallels images in the helper; decoding is the core's
 * (dm-vdisk/core/parallels.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "parallels.h"

static bool parallels_probe(const uint8_t *buf, size_t len)
{
	return len >= 20 && (!memcmp(buf, PARALLELS_MAGIC_V1, 16) ||
			     !memcmp(buf, PARALLELS_MAGIC_EXT, 16));
}

static int parallels_open(struct vd_image *im)
{
	struct parallels *p = xcalloc(1, sizeof(*p));
	uint8_t hdr[sizeof(struct parallels_header)];
	const char *why;

	im->priv = p;
	if (image_read(im, hdr, sizeof(hdr), 0, "Parallels header"))
		return -1;
	if (parallels_parse_header(hdr, im->sectors, p, &why))
		return err_at(im->path, "%s", why);
	im->capacity = p->capacity;
	im->io_sectors = p->unit;
	im->subformat = p->ext ? "WithouFreSpacExt (BAT in clusters)" :
		"WithoutFreeSpace (BAT in sectors)";
	return 0;
}

static void parallels_close(struct vd_image *im)
{
	free(im->priv);
	im->priv = NULL;
}

static void parallels_info(struct vd_image *im, struct kv_out *o)
{
	const struct parallels *p = im->priv;

	kv_u64(o, "cluster_size", (u64)p->tracks * 512);
	kv_u64(o, "bat_entries", p->bat_entries);
	kv_u64(o, "heads", p->heads);
	kv_u64(o, "cylinders", p->cylinders);
	kv_u64(o, "data_offset", p->data_start * 512);
	/* Set while Parallels or qemu has it open for writing; reads are fine. */
	kv_bool(o, "in_use", p->inuse == PARALLELS_INUSE);
	kv_bool(o, "format_extension", p->ext_off);
}

static int parallels_map_sector(struct vd_image *im, uint64_t vsec,
				struct vdisk_mapping *m)
{
	return parallels_map(im->priv, vsec, image_read_fn, im, m);
}

static void parallels_check(struct vd_image *im, struct vd_check *c)
{
	const struct parallels *p = im->priv;
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	__le32 *bat = xmalloc((size_t)p->bat_used * 4 + 4);
	u64 cluster = p->tracks;
	u32 i;

	c->total = DIV_ROUND_UP(p->capacity, cluster);
	ranges_add(&rs, 0, p->bat_end, "header and BAT", 0);
	if (p->bat_used &&
	    image_read(im, bat, (size_t)p->bat_used * 4, parallels_bat_pos(0), "BAT")) {
		check_error(c, "cannot read the BAT");
		goto out;
	}
	if (p->bat_entries < c->total)
		check_warn(c, "BAT has %u entries for %llu clusters: the rest read as zeros",
			   p->bat_entries, (unsigned long long)c->total);
	if (p->inuse == PARALLELS_INUSE)
		check_warn(c, "image is marked in use: it was not closed cleanly");
	if (p->data_off && p->data_off < p->bat_end)
		check_error(c, "data offset %u lies inside the BAT", p->data_off);
	for (i = 0; i < p->bat_used; i++) {
		u32 e = le32_to_cpu(bat[i]);
		struct vdisk_mapping m = { 0 };

		switch (parallels_decode_bat(p, e, 0, &m)) {
		case VDISK_UNALLOCATED:
			continue;
		case VDISK_DATA:
			if (m.sector < p->data_start ||
			    (p->ext && (m.sector - p->data_start) % cluster))
				check_warn(c, "cluster %u at sector %llu is not in the data area's grid",
					   i, (unsigned long long)m.sector);
			if (m.sector + cluster > p->dev_sectors) {
				check_error(c, "cluster %u at sector %llu runs past the file's end",
					    i, (unsigned long long)m.sector);
				continue;
			}
			c->allocated++;
			ranges_add(&rs, m.sector, cluster, "cluster", i);
			continue;
		default:
			check_error(c, "cluster %u: bad BAT entry %#x", i, e);
		}
	}
	ranges_check(&rs, c);
out:
	ranges_free(&rs);
	free(bat);
}

const struct vd_format vd_parallels_format = {
	.name = "parallels",
	.probe = parallels_probe,
	.open = parallels_open,
	.info = parallels_info,
	.check = parallels_check,
	.map = parallels_map_sector,
	.close = parallels_close,
};
