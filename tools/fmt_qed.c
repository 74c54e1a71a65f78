// SPDX-License-Identifier: GPL-2.0
/*
 * QED in the helper; decoding is the core's (dm-vdisk/core/qed.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "qed.h"

struct qed_priv {
	struct qed q;
	__le64 *l1;
};

static bool qed_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && get_unaligned_le32(buf) == QED_MAGIC;
}

static int qed_open(struct vd_image *im)
{
	struct qed_priv *p = xcalloc(1, sizeof(*p));
	uint8_t hdr[sizeof(struct qed_header)];
	struct qed *q = &p->q;
	const char *why;
	char *name;

	im->priv = p;
	if (image_read(im, hdr, sizeof(hdr), 0, "QED header"))
		return -1;
	if (qed_parse_header(hdr, im->sectors * 512, q, &why)) {
		if (why && !strcmp(why, "unknown QED feature"))
			return err_at(im->path, "unknown QED feature (bits %#llx)",
				      (unsigned long long)(q->features & ~QED_F_KNOWN));
		return err_at(im->path, "%s", why);
	}
	if (q->backing_offset) {
		name = xcalloc(1, q->backing_size + 1);
		if (image_read(im, name, q->backing_size, q->backing_offset,
			       "backing file name")) {
			free(name);
			return -1;
		}
		if (strlen(name) != q->backing_size) {
			free(name);
			return err_at(im->path, "backing file name holds a NUL byte");
		}
		im->ident.parent_name = name;
		/* qemu reads the backing file as raw, without probing it. */
		if (q->features & QED_F_BACKING_NO_PROBE)
			im->ident.parent_fmt = "raw";
	}
	p->l1 = xmalloc(qed_l1_bytes(q));
	if (image_read(im, p->l1, qed_l1_bytes(q), q->l1_offset, "L1 table"))
		return -1;
	im->capacity = q->capacity;
	im->io_sectors = qed_cluster_bytes(q) / 512;
	return 0;
}

static void qed_close(struct vd_image *im)
{
	struct qed_priv *p = im->priv;

	if (p)
		free(p->l1);
	free(p);
	im->priv = NULL;
}

static void qed_info(struct vd_image *im, struct kv_out *o)
{
	const struct qed *q = &((struct qed_priv *)im->priv)->q;

	kv_u64(o, "cluster_size", qed_cluster_bytes(q));
	kv_u64(o, "table_size", q->table_size);
	kv_u64(o, "header_size", q->header_size);
	kv_u64(o, "l1_table_offset", q->l1_offset);
	/* Set while qemu has it open for writing: tables may leak clusters. */
	kv_bool(o, "need_check", q->features & QED_F_NEED_CHECK);
	kv_bool(o, "backing_format_no_probe", q->features & QED_F_BACKING_NO_PROBE);
}

static int qed_map_sector(struct vd_image *im, uint64_t vsec,
			  struct vdisk_mapping *m)
{
	struct qed_priv *p = im->priv;

	return qed_map(&p->q, p->l1, vsec, image_read_fn, im, m);
}

static void qed_check(struct vd_image *im, struct vd_check *c)
{
	struct qed_priv *p = im->priv;
	const struct qed *q = &p->q;
	u64 cluster = qed_cluster_bytes(q), entries = 1ULL << q->l2_bits;
	u64 table = qed_table_bytes(q), pos;
	__le64 *l2 = xmalloc(table);
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	struct vd_seen seen = { 0 };
	u32 i;
	u64 j;

	c->total = DIV_ROUND_UP(q->size, cluster);
	ranges_add(&rs, 0, ((u64)q->header_size << q->cluster_bits) / 512, "header", 0);
	ranges_add(&rs, q->l1_offset / 512, table / 512, "L1 table", 0);
	for (i = 0; i < q->l1_entries; i++) {
		u64 l1e = le64_to_cpu(p->l1[i]);

		switch (qed_l2_pos(q, l1e, 0, &pos)) {
		case VDISK_UNALLOCATED:
			continue;
		case VDISK_DATA:
			break;
		default:
			check_error(c, "L1 entry %u (%#llx) is unaligned or outside the file",
				    i, (unsigned long long)l1e);
			continue;
		}
		ranges_add(&rs, pos / 512, table / 512, "L2 table", i);
		if (seen_add(&seen, pos))
			continue;
		if (pread_full(im->fd, l2, table, pos)) {
			check_error(c, "cannot read L2 table %u", i);
			continue;
		}
		for (j = 0; j < entries; j++) {
			u64 idx = (u64)i * entries + j, e = le64_to_cpu(l2[j]);
			struct vdisk_mapping m = { 0 };

			if (idx >= c->total)
				break;
			switch (qed_decode_l2(q, e, 0, &m)) {
			case VDISK_DATA:
				c->allocated++;
				ranges_add(&rs, e / 512, cluster / 512, "cluster", idx);
				break;
			case VDISK_ZERO:
				c->zero++;
				break;
			case VDISK_UNALLOCATED:
				break;
			default:
				check_error(c, "cluster %llu: bad L2 entry %#llx",
					    (unsigned long long)idx, (unsigned long long)e);
				break;
			}
		}
	}
	if (q->features & QED_F_NEED_CHECK)
		check_warn(c, "need-check flag set: the image was not closed cleanly");
	ranges_check(&rs, c);
	ranges_free(&rs);
	seen_free(&seen);
	free(l2);
}

const struct vd_format vd_qed_format = {
	.name = "qed",
	.probe = qed_probe,
	.open = qed_open,
	.info = qed_info,
	.check = qed_check,
	.map = qed_map_sector,
	.close = qed_close,
};
