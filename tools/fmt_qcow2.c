// SPDX-License-Identifier: GPL-2.0
/*
 * QCOW and QCOW2 in the helper; decoding is the core's
 * (dm-vdisk/core/qcow2.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "image.h"
#include "qcow2.h"
#include "vdisk_inflate.h"

struct qcow_snap {
	char id[64];
	char name[256];
	struct qcow2_snapshot s;
};

struct qcow_priv {
	struct qcow2 q;
	__be64 *l1;
	struct qcow_snap *snaps;
	char backing_fmt[32];
	char data_file[1024];
	char features[512];	/* incompatible and compatible features set */
};

static bool qcow_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && get_unaligned_be32(buf) == QCOW_MAGIC;
}

/* Name the incompatible features this reader does not know. */
static void unknown_features(struct vd_image *im, const uint8_t *head, size_t len)
{
	const struct qcow2_header *h = (const void *)head;
	u64 bits = be64_to_cpu(h->incompatible_features) & ~QCOW2_INCOMPAT_KNOWN;
	struct qcow2 q = { .version = 3, .cluster_bits = be32_to_cpu(h->cluster_bits),
			   .header_length = be32_to_cpu(h->header_length) };
	struct qcow2_exts e;
	const char *why, *name;
	u32 nlen;
	int bit = __builtin_ctzll(bits);

	name = NULL;
	if (q.cluster_bits >= QCOW2_MIN_CLUSTER_BITS &&
	    q.cluster_bits <= QCOW2_MAX_CLUSTER_BITS &&
	    !qcow2_parse_extensions(&q, head, len, &e, &why))
		name = qcow2_feature_name(&e, 0, (u8)bit, &nlen);
	if (!name)
		err_at(im->path, "unknown incompatible feature (bit %d)", bit);
	else
		err_at(im->path, "unknown incompatible feature: %.*s (bit %d)",
		       (int)nlen, name, bit);
}

static int read_snapshots(struct vd_image *im, struct qcow_priv *p)
{
	const struct qcow2 *q = &p->q;
	u64 off = q->snapshots_offset;
	const char *why;
	uint8_t *buf;
	u32 i;

	if (!q->nb_snapshots)
		return 0;
	p->snaps = xcalloc(q->nb_snapshots, sizeof(*p->snaps));
	buf = xmalloc(QCOW2_SNAPSHOT_HEAD + QCOW2_MAX_SNAPSHOT_EXTRA + 2 * 65536 + 8);
	for (i = 0; i < q->nb_snapshots; i++) {
		struct qcow_snap *sn = &p->snaps[i];
		size_t n = QCOW2_SNAPSHOT_HEAD + QCOW2_MAX_SNAPSHOT_EXTRA + 2 * 65536 + 8;
		const char *strs;

		if (off >= im->size) {
			free(buf);
			return err_at(im->path, "snapshot table lies outside the file");
		}
		if (n > im->size - off)
			n = im->size - off;
		if (pread_full(im->fd, buf, n, off) ||
		    qcow2_parse_snapshot(q, buf, n, &sn->s, &why)) {
			free(buf);
			return err_at(im->path, "snapshot %u: %s", i, why);
		}
		strs = (const char *)buf + QCOW2_SNAPSHOT_HEAD + sn->s.extra_len;
		snprintf(sn->id, sizeof(sn->id), "%.*s", (int)sn->s.id_len, strs);
		snprintf(sn->name, sizeof(sn->name), "%.*s", (int)sn->s.name_len,
			 strs + sn->s.id_len);
		off += sn->s.entry_len;
	}
	free(buf);
	return 0;
}

static int select_snapshot(struct vd_image *im, struct qcow_priv *p)
{
	const char *why;
	u32 i;

	for (i = 0; i < p->q.nb_snapshots; i++)
		if (!strcmp(p->snaps[i].id, im->snapshot))
			break;
	if (i == p->q.nb_snapshots)
		for (i = 0; i < p->q.nb_snapshots; i++)
			if (!strcmp(p->snaps[i].name, im->snapshot))
				break;
	if (i == p->q.nb_snapshots)
		return err_at(im->path, "no snapshot with id or name \"%s\"", im->snapshot);
	if (qcow2_use_l1(&p->q, p->snaps[i].s.l1_offset, p->snaps[i].s.l1_size,
			 p->snaps[i].s.disk_size ?: p->q.size, &why))
		return err_at(im->path, "snapshot \"%s\": %s", im->snapshot, why);
	im->snapshot_index = (int)i;
	return 0;
}

static int open_data_file(struct vd_image *im, struct qcow_priv *p)
{
	int r;

	if (!p->data_file[0])
		return err_at(im->path, "external data file needed but not named");
	im->data_im = xcalloc(1, sizeof(*im->data_im));
	r = ref_open(im->pol, VD_REF_DATA, im->path, p->data_file, im->data_im, NULL);
	if (r) {
		free(im->data_im);
		im->data_im = NULL;
		return r < 0 ? -1 : 0;	/* refused, for info: listed there */
	}
	p->q.data_bytes = im->data_im->sectors * 512;
	return 0;
}

static int qcow_open(struct vd_image *im)
{
	struct qcow_priv *p = xcalloc(1, sizeof(*p));
	size_t len = im->size < 4096 ? (size_t)im->size : 4096;
	uint8_t *head = xcalloc(1, 2U << 20);
	struct qcow2_exts e;
	const char *why;
	int r = -1;

	im->priv = p;
	if (image_read(im, head, len, 0, "QCOW header"))
		goto out;
	if (qcow_parse_header(head, im->sectors * 512, &p->q, &why)) {
		if (!strcmp(why, "unknown incompatible feature"))
			unknown_features(im, head, len);
		else
			err_at(im->path, "%s", why);
		goto out;
	}
	/* Extensions and the backing file name live in the first cluster. */
	len = im->size < qcow2_cluster_bytes(&p->q) ? (size_t)im->size :
		qcow2_cluster_bytes(&p->q);
	if (image_read(im, head, len, 0, "QCOW header"))
		goto out;
	if (qcow2_parse_extensions(&p->q, head, len, &e, &why)) {
		err_at(im->path, "%s", why);
		goto out;
	}
	if (e.crypto) {
		err_at(im->path, "encrypted images are not supported");
		goto out;
	}
	if (e.backing_fmt)
		snprintf(p->backing_fmt, sizeof(p->backing_fmt), "%.*s",
			 (int)e.backing_fmt_len, e.backing_fmt);
	if (e.data_file)
		snprintf(p->data_file, sizeof(p->data_file), "%.*s",
			 (int)e.data_file_len, e.data_file);
	if (p->q.backing_offset) {
		im->ident.parent_name = strndup((char *)head + p->q.backing_offset,
						p->q.backing_size);
		if (p->backing_fmt[0])
			im->ident.parent_fmt = p->backing_fmt;
	}
	if (p->q.external_data && open_data_file(im, p))
		goto out;
	if (read_snapshots(im, p) || (im->snapshot && select_snapshot(im, p)))
		goto out;

	p->l1 = xmalloc(qcow2_l1_bytes(&p->q));
	if (image_read(im, p->l1, qcow2_l1_bytes(&p->q), p->q.l1_offset, "L1 table"))
		goto out;
	im->capacity = p->q.capacity;
	im->io_sectors = qcow2_io_sectors(&p->q);
	im->subformat = p->q.version == 1 ? "v1" : p->q.version == 2 ? "v2 (compat 0.10)" :
		"v3 (compat 1.1)";
	if (p->q.version == 1)
		im->fmt_name = "qcow";	/* the kernel's keyword for version 1 */
	r = 0;
out:
	free(head);
	return r;
}

static void qcow_close(struct vd_image *im)
{
	struct qcow_priv *p = im->priv;

	if (p) {
		free(p->l1);
		free(p->snaps);
	}
	free(p);
	im->priv = NULL;
}

static void qcow_info(struct vd_image *im, struct kv_out *o)
{
	struct qcow_priv *p = im->priv;
	const struct qcow2 *q = &p->q;
	u32 i;

	kv_u64(o, "version", q->version);
	kv_u64(o, "cluster_size", qcow2_cluster_bytes(q));
	if (q->version == 1)
		return;
	kv_str(o, "compression", q->compression == QCOW2_COMPRESS_ZSTD ? "zstd" : "zlib");
	kv_bool(o, "extended_l2", q->extended_l2);
	/* The dirty bit only means refcounts may be stale: reads are fine. */
	kv_bool(o, "dirty", q->incompat & QCOW2_INCOMPAT_DIRTY);
	if (q->external_data) {
		kv_str(o, "data_file", p->data_file);
		kv_bool(o, "data_file_raw", q->autoclear & QCOW2_AUTOCLEAR_DATA_FILE_RAW);
	}
	if (im->snapshot_index >= 0)
		kv_str(o, "snapshot_mapped", p->snaps[im->snapshot_index].id);
	kv_list_begin(o, "snapshots");
	for (i = 0; i < q->nb_snapshots; i++) {
		kv_obj_begin(o);
		kv_str(o, "id", p->snaps[i].id);
		kv_str(o, "name", p->snaps[i].name);
		kv_u64(o, "virtual_size", p->snaps[i].s.disk_size ?: q->size);
		kv_obj_end(o);
	}
	kv_list_end(o);
}

static int qcow_map_sector(struct vd_image *im, uint64_t vsec,
			   struct vdisk_mapping *m)
{
	struct qcow_priv *p = im->priv;

	return qcow2_map(&p->q, p->l1, vsec, image_read_fn, im, m);
}

/* Decompress a cluster, zero-filling what lies past the end of the file. */
static int qcow_read_unit(struct vd_image *im, const struct vdisk_mapping *m,
			  uint64_t unit_vsec, void *dst)
{
	struct qcow_priv *p = im->priv;
	size_t cluster = qcow2_cluster_bytes(&p->q);
	uint64_t start = m->sector * 512 + m->skip;
	uint8_t *buf = xcalloc(1, m->clen);
	size_t avail = start < im->size ? im->size - start : 0;
	long n = -1;

	if (avail > m->clen)
		avail = m->clen;
	if (pread_full(im->fd, buf, avail, start) == 0)
		n = p->q.compression == QCOW2_COMPRESS_ZSTD ?
			vdisk_unzstd(NULL, 0, buf, m->clen, dst, cluster) :
			vdisk_inflate(NULL, VDISK_RAW_DEFLATE, buf, m->clen, dst, cluster);
	free(buf);
	return n == (long)cluster ? 0 : -EIO;
}

/*
 * A compressed cluster is at least 1/QCOW_MAX_RATIO of its size (deflate
 * reaches about 1/1032, zstd a little less), and clusters that do not
 * overlap fit in the file: more than that many means an image that names
 * the same bytes over and over.
 */
#define QCOW_MAX_RATIO	4096

/*
 * Inflate a compressed cluster to check it: each place once (@seen, bit 63
 * set), and no more places than QCOW_MAX_RATIO allows (@inflated), so the
 * work is bounded by the file's size.
 */
static void check_compressed(struct vd_image *im, struct vd_check *c,
			     const struct vdisk_mapping *m, u64 idx, uint8_t *unit,
			     struct vd_seen *seen, uint64_t *inflated)
{
	const struct qcow2 *q = &((struct qcow_priv *)im->priv)->q;
	uint64_t max = QCOW_MAX_RATIO * (im->size / qcow2_cluster_bytes(q)) + 64;

	if (seen_add(seen, (m->sector << 9 | m->skip) | 1ULL << 63))
		return;
	if (++*inflated == max + 1)
		check_error(c, "more compressed clusters than the file can hold");
	else if (*inflated <= max && qcow_read_unit(im, m, 0, unit))
		check_error(c, "compressed cluster %llu is damaged", (unsigned long long)idx);
}

static void qcow_check(struct vd_image *im, struct vd_check *c)
{
	struct qcow_priv *p = im->priv;
	const struct qcow2 *q = &p->q;
	u64 cluster = qcow2_cluster_bytes(q), entries = 1ULL << q->l2_bits;
	u64 l2_bytes = entries << q->l2_entry_shift, pos;
	uint8_t *l2 = xmalloc(l2_bytes), *unit = xmalloc(cluster);
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	struct vd_ranges data = { .limit = (im->data_im ?: im)->sectors + 16 };
	struct vd_seen seen = { 0 };	/* L2 tables, compressed data (bit 63) */
	uint64_t inflated = 0;
	u32 i, j, sc, nsc = q->extended_l2 ? 32 : 1;

	c->total = DIV_ROUND_UP(q->size, cluster);
	/* Version 1 puts the L1 table right after the header, in its sector. */
	if (q->version > 1)
		ranges_add(&rs, 0, 1, "header", 0);
	ranges_add(&rs, q->l1_offset / 512, DIV_ROUND_UP(qcow2_l1_bytes(q), 512), "L1 table", 0);
	for (i = 0; i < q->l1_size; i++) {
		u64 l1e = be64_to_cpu(p->l1[i]);

		switch (qcow2_l2_pos(q, l1e, 0, &pos)) {
		case VDISK_UNALLOCATED:
			continue;
		case VDISK_DATA:
			break;
		default:
			check_error(c, "L1 entry %u (%#llx) points outside the file", i,
				    (unsigned long long)l1e);
			continue;
		}
		ranges_add(&rs, pos / 512, DIV_ROUND_UP(l2_bytes, 512), "L2 table", i);
		/* One table named twice overlaps itself: checked once. */
		if (seen_add(&seen, pos))
			continue;
		if (pread_full(im->fd, l2, l2_bytes, pos)) {
			check_error(c, "cannot read L2 table %u", i);
			continue;
		}
		for (j = 0; j < entries; j++) {
			u64 idx = (u64)i * entries + j, e, bm = 0;
			bool alloc = false, zero = false, plain = false;

			if (idx >= c->total)
				break;
			e = get_unaligned_be64(l2 + ((u64)j << q->l2_entry_shift));
			if (q->extended_l2)
				bm = get_unaligned_be64(l2 + ((u64)j << q->l2_entry_shift) + 8);
			for (sc = 0; sc < nsc; sc++) {
				struct vdisk_mapping m = { 0 };

				switch (qcow2_decode_l2(q, e, bm, sc << q->sc_shift, &m)) {
				case VDISK_DATA:
					alloc = true;
					plain = true;
					break;
				case VDISK_COMPRESSED:
					alloc = true;
					sc = nsc;
					check_compressed(im, c, &m, idx, unit, &seen, &inflated);
					break;
				case VDISK_ZERO:
					zero = true;
					break;
				case VDISK_CORRUPT:
					check_error(c, "cluster %llu: bad L2 entry %#llx",
						    (unsigned long long)idx, (unsigned long long)e);
					sc = nsc;
					break;
				case VDISK_UNALLOCATED:
				case VDISK_MEMORY:	/* not from this decoder */
					break;
				}
			}
			/* Compressed clusters share sectors: only plain ones count. */
			if (plain)
				ranges_add(q->external_data ? &data : &rs,
					   (e & QCOW2_OFFSET_MASK) / 512, cluster / 512,
					   "cluster", idx);
			c->allocated += alloc;
			c->zero += zero && !alloc;
		}
	}
	ranges_check(&rs, c);
	ranges_check(&data, c);
	ranges_free(&rs);
	ranges_free(&data);
	seen_free(&seen);
	free(l2);
	free(unit);
}

const struct vd_format vd_qcow2_format = {
	.name = "qcow2",
	.probe = qcow_probe,
	.open = qcow_open,
	.info = qcow_info,
	.check = qcow_check,
	.map = qcow_map_sector,
	.read_unit = qcow_read_unit,
	.close = qcow_close,
};
