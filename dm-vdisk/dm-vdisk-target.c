// SPDX-License-Identifier: GPL-2.0
/*
 * dm-vdisk: read-only device-mapper target exposing the disk inside a
 * virtual disk image.
 *
 * Table: <dev> <format> [<#opt_args> <opt_args>...]
 *
 * Reads are mapped through the image's tables, cached with dm-bufio.  .map
 * never blocks: when the table entry is cached it remaps (data stored
 * plainly), zero-fills (unallocated or zero) or sends the bio to the parent
 * layer; otherwise the bio goes to a worker that reads the table blocks the
 * whole batch needs and then maps it.  See Documentation/dm-vdisk.rst.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/percpu.h>
#include <linux/vmalloc.h>
#include <linux/sched/mm.h>

#include "core/vdisk_inflate.h"
#include "dm-vdisk-compat.h"

#include "dm-vdisk.h"

#define VDISK_META_MAX_SHIFT	12	/* 4 KiB table blocks */
/*
 * Table blocks are read this much at a time: a QCOW2 L2 table of the
 * default cluster size, 32 VMDK grain tables, a BAT for 16K blocks.
 */
#define VDISK_META_AHEAD	(64U << 10)
#define VDISK_AHEAD_NONE	(~(sector_t)0)
/* Constructor reads from this size on go through dm-io, this much at once. */
#define VDISK_BIG_READ		(64U << 10)
#define VDISK_BIG_READ_CHUNK	SZ_1M

static unsigned int vdisk_cache_mb = 16;
module_param_named(cache_mb, vdisk_cache_mb, uint, 0644);
MODULE_PARM_DESC(cache_mb, "Table cache limit per device in MiB, taken when a table is loaded");

static const struct vdisk_format *const vdisk_formats[] = {
	&vdisk_vmdk_format,
	&vdisk_sesparse_format,
	&vdisk_qcow_format,
	&vdisk_qcow2_format,
	&vdisk_vhdx_format,
	&vdisk_vhd_format,
	&vdisk_vdi_format,
	&vdisk_qed_format,
	&vdisk_parallels_format,
};

static inline void vdisk_count(struct vdisk_c *vc, enum vdisk_stat stat)
{
	this_cpu_inc(vc->stats->n[stat]);
}

/*
 * Read a large range (a top-level table, a VHDX log: up to 32 MiB) in
 * reads of up to 1 MiB rather than a table block at a time, through a
 * bounce buffer since neither end need be sector aligned.
 */
static int vdisk_read_big(struct vdisk_c *vc, u64 pos, void *buf, size_t len)
{
	u64 mask = bdev_logical_block_size(vc->dev->bdev) - 1;
	void *bounce = vmalloc(VDISK_BIG_READ_CHUNK);
	int r = 0;

	if (!bounce)
		return -ENOMEM;
	while (len && !r) {
		u64 start = pos & ~mask;
		u64 end = min_t(u64, (pos + len + mask) & ~mask, start + VDISK_BIG_READ_CHUNK);
		size_t n = min_t(u64, len, end - pos);

		r = vdisk_read_data(vc, start >> SECTOR_SHIFT, bounce,
				    (end - start) >> SECTOR_SHIFT);
		memcpy(buf, bounce + (pos - start), n);
		buf += n;
		pos += n;
		len -= n;
	}
	vfree(bounce);
	return r;
}

/*
 * Read @len bytes at byte @pos of the image device: small reads through
 * the bufio cache, large ones with dm-io.  Only for the constructor: it
 * may block.
 */
int vdisk_read_bytes(struct vdisk_c *vc, u64 pos, void *buf, size_t len)
{
	unsigned int bsize = 1U << vc->meta_shift;

	if (!vdisk_range_ok(pos, len, (u64)vc->dev_sectors << SECTOR_SHIFT))
		return -EINVAL;
	if (len >= VDISK_BIG_READ)
		return vdisk_read_big(vc, pos, buf, len);

	while (len) {
		unsigned int off = pos & (bsize - 1);
		size_t n = min_t(size_t, len, bsize - off);
		struct dm_buffer *b;
		void *data;

		data = dm_bufio_read(vc->bufio, pos >> vc->meta_shift, &b);
		if (IS_ERR(data))
			return PTR_ERR(data);
		memcpy(buf, data + off, n);
		dm_bufio_release(b);
		buf += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/*
 * Allocate and read a top-level table (GD, L1) of @len bytes at byte @pos,
 * which the format's header parser has checked and capped.
 */
void *vdisk_read_table(struct vdisk_c *vc, u64 pos, size_t len)
{
	void *table = vdisk_held(vc, kvmalloc(len, GFP_KERNEL), len);

	if (!table) {
		vc->ti->error = "Cannot allocate the image's top-level table";
		return ERR_PTR(-ENOMEM);
	}
	if (vdisk_read_bytes(vc, pos, table, len)) {
		kvfree(table);
		vc->ti->error = "Cannot read the image's top-level table";
		return ERR_PTR(-EIO);
	}
	return table;
}

/*
 * The first @len bytes of the image, for a format's constructor to parse
 * and kfree(); @what is the error when they cannot be read.
 */
void *vdisk_read_head(struct vdisk_c *vc, size_t len, const char *what)
{
	void *buf = kmalloc(len, GFP_KERNEL);
	int r;

	if (!buf) {
		vc->ti->error = "Cannot allocate header buffer";
		return ERR_PTR(-ENOMEM);
	}
	r = vdisk_read_bytes(vc, 0, buf, len);
	if (r) {
		kfree(buf);
		vc->ti->error = (char *)what;	/* a string literal */
		return ERR_PTR(r);
	}
	return buf;
}

/*
 * Note that the worker had dm-bufio read table block @block, and forget the
 * oldest such block past the device's limit.  A batch that needs a block
 * several times notes it once.
 */
static void vdisk_note_block(struct vdisk_c *vc, sector_t block)
{
	unsigned int i, pos;

	for (i = 1; i <= vc->batch_noted; i++)
		if (vc->ring[(vc->ring_head + vc->ring_size - i) % vc->ring_size] == block)
			return;
	pos = vc->ring_head;
	vc->ring_head = (pos + 1) % vc->ring_size;
	if (vc->batch_noted < vc->ring_size)
		vc->batch_noted++;
	if (vc->ring_used == vc->ring_size)
		dm_bufio_forget(vc->bufio, vc->ring[pos]);
	else
		vc->ring_used++;
	vc->ring[pos] = block;
}

/*
 * The worker missed table block @block: start reading the aligned window
 * of blocks around it, so a cold random reader waits once per window, not
 * once per block, and when it follows the last windows read (a stream),
 * the window after it too.  The blocks count against the cache limit like
 * any other; a batch notes at most half the ring, so none it noted is
 * forgotten before it is used.
 */
static void vdisk_meta_ahead(struct vdisk_c *vc, sector_t block)
{
	sector_t end = vc->dev_sectors >> (vc->meta_shift - SECTOR_SHIFT);
	unsigned int n = min(VDISK_META_AHEAD >> vc->meta_shift, vc->ring_size / 8);
	sector_t first, last, b;
	struct dm_buffer *buf;
	void *data;

	if (n < 2)
		return;
	n = rounddown_pow_of_two(n);
	first = round_down(block, n);
	if (first >= vc->ahead_first && first < vc->ahead_last)
		return;		/* read ahead already */
	last = min(first + (first == vc->ahead_last ? 2 * n : n), end);
	for (b = first; b < last; b++) {
		if (vc->batch_noted + 1 >= vc->ring_size / 2)
			break;
		data = dm_bufio_get(vc->bufio, b, &buf);
		if (!IS_ERR_OR_NULL(data)) {
			dm_bufio_release(buf);
			continue;
		}
		vdisk_note_block(vc, b);
	}
	vc->ahead_first = first;
	vc->ahead_last = b;
	if (b > first)
		dm_bufio_prefetch(vc->bufio, first, b - first);
}

/*
 * Read one table entry of @len bytes at byte @pos.  Entries are naturally
 * aligned and no larger than a table block, so they never straddle blocks.
 */
int vdisk_meta_read(struct vdisk_c *vc, u64 pos, void *buf, unsigned int len,
		    enum vdisk_wait wait)
{
	sector_t block = pos >> vc->meta_shift;
	struct dm_buffer *b;
	void *data;

	if (WARN_ON_ONCE((pos & (len - 1)) || len > (1U << vc->meta_shift)))
		return -EIO;

	data = dm_bufio_get(vc->bufio, block, &b);
	if (IS_ERR_OR_NULL(data)) {
		if (wait == VDISK_NOWAIT)
			return -EWOULDBLOCK;
		vdisk_note_block(vc, block);
		vdisk_meta_ahead(vc, block);
		if (wait == VDISK_PREFETCH) {
			dm_bufio_prefetch(vc->bufio, block, 1);
			return -EWOULDBLOCK;
		}
		data = dm_bufio_read(vc->bufio, block, &b);
		if (IS_ERR(data))
			return PTR_ERR(data);
	} else if (wait == VDISK_NOWAIT) {
		vdisk_count(vc, VDISK_STAT_HITS);
	}
	memcpy(buf, data + (pos & ((1U << vc->meta_shift) - 1)), len);
	dm_bufio_release(b);
	return 0;
}

/* Read whole sectors of the image into vc->cbuf-like vmalloc memory. */
int vdisk_read_data(struct vdisk_c *vc, sector_t sector, void *buf,
		    unsigned int sectors)
{
	struct dm_io_region where = {
		.bdev = vc->dev->bdev,
		.sector = sector,
		.count = sectors,
	};
	struct dm_io_request req = {
		.bi_opf = REQ_OP_READ,
		.mem.type = DM_IO_VMA,
		.mem.ptr.vma = buf,
		.client = vc->io_client,
	};

	if (!vdisk_range_ok(sector, sectors, vc->dev_sectors))
		return -EIO;
	return vdisk_dm_io(&req, &where);
}

/* Where the extent @e holds the image's sectors [@sector, +@sectors), or NULL. */
static void *vdisk_cext_at(const struct vdisk_cext *e, sector_t sector,
			   unsigned int sectors)
{
	if (e->err || sector < e->sector || sectors > e->sectors ||
	    sector - e->sector > e->sectors - sectors)
		return NULL;
	return e->w->buf + e->off + ((sector - e->sector) << SECTOR_SHIFT);
}

/* Where the window @w holds the image's sectors [@sector, +@sectors), or NULL. */
static void *vdisk_cwin_at(const struct vdisk_cwin *w, sector_t sector,
			   unsigned int sectors)
{
	const struct vdisk_cext *e;
	void *p;

	for (e = w->ext; e < w->ext + w->n_ext; e++) {
		p = vdisk_cext_at(e, sector, sectors);
		if (p)
			return p;
	}
	return NULL;
}

/*
 * The image's sectors [@sector, @sector + @sectors) of compressed data for
 * @z: in its window if its batch read them there, else read into z->cbuf.
 */
const void *vdisk_cdata(struct vdisk_c *vc, struct vdisk_inflater *z,
			sector_t sector, unsigned int sectors)
{
	void *p = z->cur ? vdisk_cwin_at(z->cur, sector, sectors) : NULL;
	int r;

	if (p)
		return p;
	if (sectors > vc->cbuf_bytes >> SECTOR_SHIFT)
		return ERR_PTR(-EIO);
	r = vdisk_read_data(vc, sector, z->cbuf, sectors);
	return r ? ERR_PTR(r) : z->cbuf;
}

/* Fill @bio from @src, or with zeros if @src is NULL. */
static void vdisk_copy_to_bio(struct bio *bio, const u8 *src)
{
	struct bvec_iter iter;
	struct bio_vec bv;

	if (!src) {
		zero_fill_bio(bio);
		return;
	}
	bio_for_each_segment(bv, bio, iter) {
		memcpy_to_bvec(&bv, src);
		src += bv.bv_len;
	}
}

/* Byte position: QCOW packs several compressed clusters in a sector. */
static inline u64 vdisk_unit_key(const struct vdisk_mapping *m)
{
	return ((u64)m->sector << SECTOR_SHIFT) + m->skip;
}

/* @z's decompressed unit whose data starts at @key, or NULL. */
static struct vdisk_unit *vdisk_unit_find(struct vdisk_inflater *z, u64 key)
{
	unsigned int i;

	for (i = 0; i < z->n_units; i++)
		if (z->units[i].key == key)
			return &z->units[i];
	return NULL;
}

/*
 * Serve a bio from a compressed unit, decompressing it unless it is one of
 * the last few @z used: a sequential reader decompresses each unit once.
 * A unit's first bio has it decompressed only as far as that bio reads (a
 * random reader inflates half a unit on average); a later bio past that
 * has the whole unit decompressed, so no unit costs more than twice.
 */
static int vdisk_read_compressed(struct vdisk_c *vc, struct vdisk_inflater *z,
				 struct bio *bio, const struct vdisk_mapping *m)
{
	sector_t vsec = dm_target_offset(vc->ti, bio->bi_iter.bi_sector);
	u64 key = vdisk_unit_key(m);
	unsigned int off = m->offset << SECTOR_SHIFT;
	unsigned int end = off + bio->bi_iter.bi_size;
	struct vdisk_unit *u = vdisk_unit_find(z, key);
	long n;

	if (end > vc->unit_bytes)
		return -EIO;
	if (!u || u->valid < end) {
		if (u) {
			end = vc->unit_bytes;
		} else {
			u = &z->units[z->next_unit];
			z->next_unit = (z->next_unit + 1) % z->n_units;
		}
		u->key = U64_MAX;
		n = vc->fmt->decompress(vc, z, m, vsec - m->offset, u->data, end);
		if (n < 0)
			return n;
		if (WARN_ON_ONCE(n < end || n > vc->unit_bytes))
			return -EIO;
		u->key = key;
		u->valid = n;
	}
	vdisk_copy_to_bio(bio, u->data + off);
	return 0;
}

/* Fail @bio because the worker could not @what. */
static void vdisk_fail(struct vdisk_c *vc, struct bio *bio, const char *what,
		       int r)
{
	vdisk_count(vc, VDISK_STAT_ERRORS);
	DMERR_LIMIT("%s: cannot %s for sector %llu: %d",
		    dm_device_name(dm_table_get_md(vc->ti->table)), what,
		    (unsigned long long)bio->bi_iter.bi_sector, r);
	bio_io_error(bio);
}

/* Add @bio to @list and make sure @work will see it. */
static void vdisk_queue(struct vdisk_c *vc, spinlock_t *lock,
			struct bio_list *list, struct work_struct *work,
			struct bio *bio)
{
	unsigned long flags;
	bool first;

	spin_lock_irqsave(lock, flags);
	first = bio_list_empty(list);
	bio_list_add(list, bio);
	spin_unlock_irqrestore(lock, flags);
	if (first)
		queue_work(vc->wq, work);
}

/* Take every bio queued on @list, for the work item that serves it. */
static void vdisk_take(spinlock_t *lock, struct bio_list *list,
		       struct bio_list *bios)
{
	spin_lock_irq(lock);
	*bios = *list;
	bio_list_init(list);
	spin_unlock_irq(lock);
}

/*
 * An inflater's buffers, allocated at its first compressed unit: images
 * without any (most QCOW2 ones) never pay for them.  In the I/O path, so
 * no allocation may wait for I/O (to this device, perhaps).  What fails is
 * tried again at the next unit.
 */
static int vdisk_inflater_alloc(struct vdisk_c *vc, struct vdisk_inflater *z)
{
	unsigned int noio = memalloc_noio_save(), i;
	int r = -ENOMEM;

	if (!z->zws)
		z->zws = vdisk_held(vc, kvmalloc(vdisk_inflate_workspace_size(),
						 GFP_KERNEL),
				    vdisk_inflate_workspace_size());
	/* vmalloc memory: dm-io reads into it as DM_IO_VMA. */
	if (!z->cbuf)
		z->cbuf = vdisk_held(vc, vmalloc(vc->cbuf_bytes), vc->cbuf_bytes);
	for (i = 0; i < VDISK_CWINS; i++) {
		if (!z->win[i].buf)
			z->win[i].buf = vdisk_held(vc, vmalloc(VDISK_CWIN_BYTES),
						   VDISK_CWIN_BYTES);
		if (!z->win[i].buf)
			goto out;
	}
	if (!z->zws || !z->cbuf)
		goto out;
	if (vc->zstd_ws_size && !z->zstd_ws) {
		z->zstd_ws = vdisk_held(vc, kvmalloc(vc->zstd_ws_size, GFP_KERNEL),
					vc->zstd_ws_size);
		if (!z->zstd_ws)
			goto out;
	}
	for (i = 0; i < z->n_units; i++) {
		if (z->units[i].data)
			continue;
		z->units[i].data = vdisk_held(vc, kvmalloc(vc->unit_bytes, GFP_KERNEL),
					      vc->unit_bytes);
		if (!z->units[i].data)
			goto out;
	}
	z->ready = true;
	r = 0;
out:
	memalloc_noio_restore(noio);
	return r;
}

static void vdisk_serve_compressed(struct vdisk_c *vc, struct vdisk_inflater *z,
				   struct bio *bio)
{
	int r = vdisk_read_compressed(vc, z, bio,
				      dm_per_bio_data(bio, sizeof(struct vdisk_mapping)));

	if (r)
		vdisk_fail(vc, bio, "decompress data", r);
	else
		bio_endio(bio);
}

/*
 * @z's last unit took @sectors of compressed data, which the format found
 * out as it read it (a VMDK grain's marker): vdisk_cdata_guess() learns
 * from it.
 */
void vdisk_cdata_seen(struct vdisk_inflater *z, unsigned int sectors)
{
	z->cdata_guess = max(sectors << SECTOR_SHIFT,
			     z->cdata_guess - z->cdata_guess / VDISK_CDATA_DECAY);
}

/*
 * The sectors a unit's compressed data most likely takes: the length where
 * the format stores it, else an eighth more than about the largest of @z's
 * last units (at first a unit and a sector, as deflate seldom grows data
 * by more), at least what is read first and no more than the window.  A
 * unit larger than the guess is read again as it is served.
 */
static unsigned int vdisk_cdata_guess(const struct vdisk_inflater *z,
				      const struct vdisk_mapping *m)
{
	u64 bytes = (u64)m->skip + m->clen;

	if (m->clen)
		return DIV_ROUND_UP_ULL(bytes, SECTOR_SIZE);
	bytes = clamp_t(u64, z->cdata_guess + z->cdata_guess / 8,
			VDISK_CDATA_FIRST << SECTOR_SHIFT, VDISK_CWIN_BYTES);
	return DIV_ROUND_UP_ULL(bytes, SECTOR_SIZE);
}

/* Whether @bio's data needs no read: its unit is decompressed far enough. */
static bool vdisk_unit_ready(struct vdisk_inflater *z, struct bio *bio,
			     const struct vdisk_mapping *m)
{
	struct vdisk_unit *u = vdisk_unit_find(z, vdisk_unit_key(m));

	return u && u->valid >= (m->offset << SECTOR_SHIFT) + bio->bi_iter.bi_size;
}

/* @z's window being read (not yet served) that holds [@s, +@n), or NULL. */
static struct vdisk_cwin *vdisk_cwin_reading(struct vdisk_inflater *z,
					     sector_t s, unsigned int n)
{
	unsigned int i;
	struct vdisk_cwin *w;

	for (i = 0; i < z->n_read; i++) {
		w = &z->win[(z->first + i) % VDISK_CWINS];
		if (vdisk_cwin_at(w, s, n))
			return w;
	}
	return NULL;
}

/*
 * Move the bios of z->todo whose compressed data fits the window @w onto
 * its list, and plan the extents to read for them: a range that starts in
 * or just past the last extent extends it (a sequential reader's units lie
 * one after another), any other gets its own.  Bios that need no read are
 * served at once, and those whose data a window being read holds are
 * served from it.  Those whose data would not fit an empty window go onto
 * @w's list without an extent and read it themselves.
 */
static void vdisk_cdata_plan(struct vdisk_c *vc, struct vdisk_inflater *z,
			     struct vdisk_cwin *w)
{
	struct bio_list *bios = &z->todo;
	unsigned int used = 0, n, grow;
	struct vdisk_cwin *busy;
	struct vdisk_cext *e;
	struct bio *bio;
	sector_t s;

	w->n_ext = 0;
	while ((bio = bio_list_peek(bios))) {
		const struct vdisk_mapping *m = dm_per_bio_data(bio, sizeof(*m));

		s = m->sector;
		if (vdisk_unit_ready(z, bio, m)) {
			/* Now, before another bio of the round evicts its unit. */
			vdisk_serve_compressed(vc, z, bio_list_pop(bios));
			continue;
		}
		if (s >= vc->dev_sectors)
			goto take;
		n = min_t(u64, vdisk_cdata_guess(z, m), vc->dev_sectors - s);
		if (n > VDISK_CWIN_BYTES >> SECTOR_SHIFT)
			goto take;	/* a large unit: read as it is served */
		busy = vdisk_cwin_reading(z, s, n);
		if (busy) {
			bio_list_add(&busy->bios, bio_list_pop(bios));
			continue;
		}
		if (vdisk_cwin_at(w, s, n))
			goto take;
		e = w->n_ext ? &w->ext[w->n_ext - 1] : NULL;
		if (e && s >= e->sector &&
		    s - e->sector <= e->sectors + VDISK_CWIN_GAP) {
			grow = max_t(u64, s + n, e->sector + e->sectors) -
			       (e->sector + e->sectors);
			if (used + (grow << SECTOR_SHIFT) > VDISK_CWIN_BYTES)
				break;
			e->sectors += grow;
			used += grow << SECTOR_SHIFT;
			goto take;
		}
		if (w->n_ext == VDISK_CWIN_EXTENTS ||
		    used + (n << SECTOR_SHIFT) > VDISK_CWIN_BYTES) {
			if (!bio_list_empty(&w->bios))
				break;
			goto take;
		}
		e = &w->ext[w->n_ext++];
		e->w = w;
		e->sector = s;
		e->sectors = n;
		e->off = used;
		e->err = 0;
		used += n << SECTOR_SHIFT;
take:
		bio_list_add(&w->bios, bio_list_pop(bios));
	}
}

/* A failed extent is read again by each of its bios, which reports its error. */
static void vdisk_cext_end(struct vdisk_cext *e, bool failed)
{
	if (failed)
		e->err = -EIO;
	if (atomic_dec_and_test(&e->w->pending))
		complete(&e->w->done);
}

static VDISK_IO_NOTIFY_FN(vdisk_cdata_done)
{
	vdisk_cext_end(context, VDISK_IO_NOTIFY_FAILED);
}

/* Start reading the extents vdisk_cdata_plan() chose for @w, all at once. */
static void vdisk_cdata_read(struct vdisk_c *vc, struct vdisk_cwin *w)
{
	struct vdisk_cext *e;
	struct blk_plug plug;

	reinit_completion(&w->done);
	atomic_set(&w->pending, w->n_ext + 1);
	blk_start_plug(&plug);
	for (e = w->ext; e < w->ext + w->n_ext; e++) {
		struct dm_io_region where = {
			.bdev = vc->dev->bdev,
			.sector = e->sector,
			.count = e->sectors,
		};
		struct dm_io_request req = {
			.bi_opf = REQ_OP_READ,
			.mem.type = DM_IO_VMA,
			.mem.ptr.vma = w->buf + e->off,
			.notify.fn = vdisk_cdata_done,
			.notify.context = e,
			.client = vc->io_client,
		};

		/*
		 * dm-io calls back for every read of one region it started,
		 * and fails synchronously only those it did not (dp_init()).
		 */
		if (vdisk_dm_io(&req, &where))
			vdisk_cext_end(e, true);
	}
	blk_finish_plug(&plug);
}

/*
 * Start reading the data of @z's queued bios into its free windows, in
 * turn after those being read.  Taking the queue as it is served, a
 * steady reader's next bios are on their way while the last are inflated.
 */
static void vdisk_cwin_fill(struct vdisk_c *vc, struct vdisk_inflater *z)
{
	struct bio_list more;
	struct vdisk_cwin *w;

	while (z->n_read + !!z->cur < VDISK_CWINS) {
		if (bio_list_empty(&z->todo)) {
			vdisk_take(&z->lock, &z->bios, &more);
			if (bio_list_empty(&more))
				return;
			z->todo = more;
		}
		w = &z->win[(z->first + z->n_read) % VDISK_CWINS];
		vdisk_cdata_plan(vc, z, w);
		if (bio_list_empty(&w->bios))
			continue;	/* all served without a read */
		vdisk_cdata_read(vc, w);
		z->n_read++;
	}
}

/* Wait for @w's reads, then serve its bios from it. */
static void vdisk_cwin_serve(struct vdisk_c *vc, struct vdisk_inflater *z,
			     struct vdisk_cwin *w)
{
	struct bio *bio;

	if (!atomic_dec_and_test(&w->pending))
		wait_for_completion_io(&w->done);
	z->cur = w;
	while ((bio = bio_list_pop(&w->bios))) {
		vdisk_serve_compressed(vc, z, bio);
		vdisk_cwin_fill(vc, z);
	}
	z->cur = NULL;
}

/*
 * Serve @z's bios in rounds, one window each, in the order their reads
 * were started; vdisk_cwin_fill() starts the next rounds' reads as bios
 * come in, so a steady reader keeps the windows busy.
 */
static void vdisk_inflate_work(struct work_struct *ws)
{
	struct vdisk_inflater *z = container_of(ws, struct vdisk_inflater, work);
	struct vdisk_c *vc = z->vc;
	struct vdisk_cwin *w;
	struct bio_list bios;
	struct bio *bio;
	int r;

	r = z->ready ? 0 : vdisk_inflater_alloc(vc, z);
	if (r) {
		vdisk_take(&z->lock, &z->bios, &bios);
		while ((bio = bio_list_pop(&bios)))
			vdisk_fail(vc, bio, "allocate decompression buffers", r);
		return;
	}

	for (;;) {
		vdisk_cwin_fill(vc, z);
		if (!z->n_read)
			break;
		w = &z->win[z->first];
		z->first = (z->first + 1) % VDISK_CWINS;
		z->n_read--;
		vdisk_cwin_serve(vc, z, w);
		cond_resched();
	}
}

/* Hand @bio, which reads within the compressed unit @m, to its inflater. */
static void vdisk_inflate_bio(struct vdisk_c *vc, struct bio *bio,
			      const struct vdisk_mapping *m)
{
	sector_t vsec = dm_target_offset(vc->ti, bio->bi_iter.bi_sector);
	u64 unit = div_u64(vsec - m->offset, vc->unit_bytes >> SECTOR_SHIFT);
	u64 run = div_u64(unit, vc->inflate_run);
	struct vdisk_inflater *z = &vc->inflaters[(u32)run % vc->n_inflaters];

	*(struct vdisk_mapping *)dm_per_bio_data(bio, sizeof(*m)) = *m;
	vdisk_queue(vc, &z->lock, &z->bios, &z->work, bio);
}

static void vdisk_defer(struct vdisk_c *vc, struct bio *bio)
{
	vdisk_count(vc, VDISK_STAT_DEFERRED);
	vdisk_queue(vc, &vc->lock, &vc->deferred, &vc->work, bio);
}

/*
 * Act on a decoded mapping.  Returns DM_MAPIO_REMAPPED when the bio was
 * pointed at a lower device and should be submitted, DM_MAPIO_SUBMITTED when
 * it was completed here, DM_MAPIO_KILL when it must fail.
 */
static int vdisk_apply(struct vdisk_c *vc, struct bio *bio,
		       const struct vdisk_mapping *m)
{
	switch (m->state) {
	case VDISK_DATA:
		if (!vdisk_range_ok(m->sector, bio_sectors(bio), vc->data_sectors))
			break;
		bio_set_dev(bio, vc->data_bdev);
		bio->bi_iter.bi_sector = m->sector;
		return DM_MAPIO_REMAPPED;
	case VDISK_UNALLOCATED:
		if (vc->parent) {
			/* The parent is addressed like this device. */
			bio_set_dev(bio, vc->parent->bdev);
			return DM_MAPIO_REMAPPED;
		}
		fallthrough;
	case VDISK_ZERO:
		zero_fill_bio(bio);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	case VDISK_MEMORY:
		vdisk_copy_to_bio(bio, m->mem);
		bio_endio(bio);
		return DM_MAPIO_SUBMITTED;
	case VDISK_COMPRESSED:	/* the worker handles these first */
	case VDISK_CORRUPT:
		break;
	}
	vdisk_count(vc, VDISK_STAT_ERRORS);
	DMERR_LIMIT("%s: corrupt table entry for sector %llu",
		    dm_device_name(dm_table_get_md(vc->ti->table)),
		    (unsigned long long)bio->bi_iter.bi_sector);
	return DM_MAPIO_KILL;
}

/* Is the mapping of @vsec's unit in its slot?  Lock-free, for .map. */
static bool vdisk_slot_get(struct vdisk_c *vc, sector_t vsec,
			   struct vdisk_mapping *m)
{
	u64 key = (vsec >> vc->io_shift) + 1;
	struct vdisk_slot *sl = &vc->slots[key & vc->slot_mask];
	int seq = atomic_read_acquire(&sl->seq);
	u32 state;
	u64 sector;

	if ((seq & 1) || READ_ONCE(sl->key) != key)
		return false;
	state = READ_ONCE(sl->state);
	sector = READ_ONCE(sl->sector);
	smp_rmb();	/* the fields before the check that they were one write's */
	if (atomic_read(&sl->seq) != seq)
		return false;
	m->state = state;
	m->sector = sector + (vsec & (vc->io_sectors - 1));
	return true;
}

/*
 * Keep @m, the mapping of @vsec, for its whole unit, unless another CPU is
 * filling the slot: a cache may drop what it likes.
 */
static void vdisk_slot_put(struct vdisk_c *vc, sector_t vsec,
			   const struct vdisk_mapping *m)
{
	u64 key = (vsec >> vc->io_shift) + 1;
	struct vdisk_slot *sl = &vc->slots[key & vc->slot_mask];
	int seq = atomic_read(&sl->seq);

	if ((seq & 1) || !atomic_try_cmpxchg(&sl->seq, &seq, seq + 1))
		return;
	WRITE_ONCE(sl->key, key);
	WRITE_ONCE(sl->state, m->state);
	WRITE_ONCE(sl->sector, m->state != VDISK_DATA ? 0 :
		   m->sector - (vsec & (vc->io_sectors - 1)));
	atomic_set_release(&sl->seq, seq + 2);
}

static int vdisk_lookup(struct vdisk_c *vc, sector_t vsec,
			enum vdisk_wait wait, struct vdisk_mapping *m)
{
	int r;

	m->run = 0;
	m->part = false;
	if (vc->slots && vdisk_slot_get(vc, vsec, m)) {
		if (wait == VDISK_NOWAIT)
			vdisk_count(vc, VDISK_STAT_HITS);
		return 0;
	}
	r = vc->fmt->lookup(vc, vsec, wait, m);
	if (!r && vc->slots && !m->part && (m->state == VDISK_DATA ||
					    m->state == VDISK_ZERO ||
					    m->state == VDISK_UNALLOCATED))
		vdisk_slot_put(vc, vsec, m);
	return r;
}

static int vdisk_lookup_bio(struct vdisk_c *vc, struct bio *bio,
			    enum vdisk_wait wait, struct vdisk_mapping *m)
{
	return vdisk_lookup(vc, dm_target_offset(vc->ti, bio->bi_iter.bi_sector),
			    wait, m);
}

/* Sectors from @vsec on that mapping @m holds for. */
static sector_t vdisk_run(struct vdisk_c *vc, sector_t vsec,
			  const struct vdisk_mapping *m)
{
	sector_t run = vc->io_sectors - (vsec & (vc->io_sectors - 1));

	return m->run && m->run < run ? m->run : run;
}

static void vdisk_work(struct work_struct *ws)
{
	struct vdisk_c *vc = container_of(ws, struct vdisk_c, work);
	struct bio_list bios;
	struct vdisk_mapping m;
	struct bio *bio;
	sector_t len;

	vdisk_take(&vc->lock, &vc->deferred, &bios);

	/* Start reading every table block the batch needs, then wait once. */
	vc->batch_noted = 0;
	if (bios.head != bios.tail)
		bio_list_for_each(bio, &bios)
			vdisk_lookup_bio(vc, bio, VDISK_PREFETCH, &m);

	while ((bio = bio_list_pop(&bios))) {
		int r = vdisk_lookup_bio(vc, bio, VDISK_WAIT, &m);

		if (r) {
			vdisk_fail(vc, bio, "read table block", r);
			continue;
		}
		/* Sector bitmaps can map a unit apart: do it a piece at a time. */
		len = vdisk_run(vc, dm_target_offset(vc->ti, bio->bi_iter.bi_sector), &m);
		if (len < bio_sectors(bio)) {
			struct bio *split = bio_split(bio, len, GFP_NOIO, &vc->bs);

			bio_chain(split, bio);
			bio_list_add_head(&bios, bio);
			/* As dm core does with its splits: nobody polls this one. */
			bio_clear_polled(split);
			r = vdisk_apply(vc, split, &m);
			if (r == DM_MAPIO_REMAPPED)
				dm_submit_bio_remap(bio, split);
			else if (r == DM_MAPIO_KILL)
				bio_io_error(split);
			continue;
		}
		if (m.state == VDISK_COMPRESSED) {
			vdisk_inflate_bio(vc, bio, &m);
			continue;
		}
		switch (vdisk_apply(vc, bio, &m)) {
		case DM_MAPIO_REMAPPED:
			dm_submit_bio_remap(bio, NULL);
			break;
		case DM_MAPIO_KILL:
			bio_io_error(bio);
			break;
		}
	}
}

/* Does mapping @n of the unit @run sectors on carry on where @m started? */
static bool vdisk_continues(const struct vdisk_mapping *m,
			    const struct vdisk_mapping *n, sector_t run)
{
	if (n->state != m->state)
		return false;
	switch (m->state) {
	case VDISK_DATA:
		return n->sector == m->sector + run;
	case VDISK_ZERO:
	case VDISK_UNALLOCATED:	/* zeros, or the parent at the same sectors */
		return true;
	default:
		return false;
	}
}

/*
 * Bios are not split at unit (grain, cluster) boundaries up front: a bio
 * is mapped as far as its units continue one another (contiguous data,
 * zeros, the parent), which is all of it for images written in order, and
 * dm resubmits the rest.  Misses and compressed units are deferred a unit
 * at a time, which is all the worker handles.
 */
static int vdisk_map(struct dm_target *ti, struct bio *bio)
{
	struct vdisk_c *vc = ti->private;
	sector_t vsec = dm_target_offset(ti, bio->bi_iter.bi_sector);
	sector_t run = vc->io_sectors - (vsec & (vc->io_sectors - 1));
	struct vdisk_mapping m, n;
	int r;

	/*
	 * The table is read-only, but a writable device stacked on this one
	 * still sends its writes here.
	 */
	if (bio_op(bio) != REQ_OP_READ) {
		vdisk_count(vc, VDISK_STAT_ERRORS);
		return DM_MAPIO_KILL;
	}

	/* Table reads are the worker's, decompression the inflaters'. */
	r = vdisk_lookup(vc, vsec, VDISK_NOWAIT, &m);
	if (r || m.state == VDISK_COMPRESSED) {
		if (run < bio_sectors(bio))
			dm_accept_partial_bio(bio, run);
		if (r) {
			vdisk_count(vc, VDISK_STAT_MISSES);
			vdisk_defer(vc, bio);
		} else {
			vdisk_inflate_bio(vc, bio, &m);
		}
		return DM_MAPIO_SUBMITTED;
	}
	run = vdisk_run(vc, vsec, &m);
	while (run < bio_sectors(bio) &&
	       !vdisk_lookup(vc, vsec + run, VDISK_NOWAIT, &n) &&
	       vdisk_continues(&m, &n, run))
		run += vdisk_run(vc, vsec + run, &n);
	if (run < bio_sectors(bio))
		dm_accept_partial_bio(bio, run);
	return vdisk_apply(vc, bio, &m);
}

static void vdisk_free_compression(struct vdisk_c *vc)
{
	struct vdisk_inflater *z;
	unsigned int i;

	for (z = vc->inflaters; z && z < vc->inflaters + vc->n_inflaters; z++) {
		for (i = 0; i < z->n_units; i++)
			kvfree(z->units[i].data);
		kvfree(z->cbuf);
		for (i = 0; i < VDISK_CWINS; i++)
			kvfree(z->win[i].buf);
		kvfree(z->zws);
		kvfree(z->zstd_ws);
	}
	kvfree(vc->inflaters);
	if (vc->io_client)
		dm_io_client_destroy(vc->io_client);
}

/*
 * The inflaters: one per CPU up to VDISK_MAX_INFLATERS, fewer when their
 * buffers would not fit VDISK_INFLATE_MAX_BYTES, sharing up to
 * VDISK_UNIT_CACHE_BYTES of decompressed units within that cap.  Their
 * buffers are allocated at their first unit (vdisk_inflater_alloc()).
 */
static int vdisk_alloc_compression(struct vdisk_c *vc)
{
	size_t fixed = vdisk_inflate_workspace_size() + vc->zstd_ws_size +
		       vc->cbuf_bytes + VDISK_CWINS * VDISK_CWIN_BYTES;
	unsigned int i, n = clamp_t(unsigned int, num_online_cpus(), 1,
				    VDISK_MAX_INFLATERS);
	struct vdisk_inflater *z;
	size_t room;

	if (fixed + vc->unit_bytes > VDISK_INFLATE_MAX_BYTES)
		return -EFBIG;
	while (n > 1 && n * (fixed + vc->unit_bytes) > VDISK_INFLATE_MAX_BYTES)
		n--;
	room = min_t(size_t, VDISK_INFLATE_MAX_BYTES / n - fixed,
		     VDISK_UNIT_CACHE_BYTES / n);

	vc->inflaters = vdisk_held(vc, kvcalloc(n, sizeof(*z), GFP_KERNEL),
				   n * sizeof(*z));
	if (!vc->inflaters)
		return -ENOMEM;
	vc->n_inflaters = n;
	vc->inflate_run = max(VDISK_INFLATE_RUN_BYTES / vc->unit_bytes, 1U);
	for (z = vc->inflaters; z < vc->inflaters + n; z++) {
		z->vc = vc;
		INIT_WORK(&z->work, vdisk_inflate_work);
		for (i = 0; i < VDISK_CWINS; i++) {
			init_completion(&z->win[i].done);
			bio_list_init(&z->win[i].bios);
		}
		spin_lock_init(&z->lock);
		bio_list_init(&z->bios);
		bio_list_init(&z->todo);
		z->n_units = clamp_t(size_t, room / vc->unit_bytes, 1, VDISK_UNIT_CACHE_MAX);
		z->cdata_guess = vc->unit_bytes + SECTOR_SIZE;
		for (i = 0; i < z->n_units; i++)
			z->units[i].key = U64_MAX;
	}
	return 0;
}

/*
 * The per-device cache: decoded units get up to a quarter of cache_mb (no
 * more slots than the disk has units), table blocks the rest.
 */
static int vdisk_alloc_cache(struct vdisk_c *vc)
{
	u64 bytes = (u64)clamp(READ_ONCE(vdisk_cache_mb), 1U, 65536U) << 20;
	u64 units = ((vc->capacity - 1) >> vc->io_shift) + 1;
	u64 slots = 0;

	if (!vc->partial_units) {
		slots = rounddown_pow_of_two(div_u64(bytes / 4, sizeof(*vc->slots)));
		if (units < slots)
			slots = roundup_pow_of_two(units);
		vc->slots = vdisk_held(vc, kvcalloc(slots, sizeof(*vc->slots),
						    GFP_KERNEL),
				       slots * sizeof(*vc->slots));
		if (!vc->slots)
			return -ENOMEM;
		vc->slot_mask = slots - 1;
	}
	vc->ring_size = max_t(u64, (bytes - slots * sizeof(*vc->slots)) >> vc->meta_shift, 16);
	vc->ahead_first = VDISK_AHEAD_NONE;
	vc->ahead_last = VDISK_AHEAD_NONE;
	vc->ring = vdisk_held(vc, kvmalloc_array(vc->ring_size, sizeof(*vc->ring),
						 GFP_KERNEL),
			      vc->ring_size * sizeof(*vc->ring));
	return vc->ring ? 0 : -ENOMEM;
}

static void vdisk_dtr(struct dm_target *ti)
{
	struct vdisk_c *vc = ti->private;

	if (vc->wq)
		destroy_workqueue(vc->wq);
	vdisk_free_compression(vc);
	kvfree(vc->slots);
	kvfree(vc->ring);
	if (vc->fmt && vc->fmt->dtr)
		vc->fmt->dtr(vc);
	if (vc->bufio)
		dm_bufio_client_destroy(vc->bufio);
	bioset_exit(&vc->bs);
	if (vc->parent)
		dm_put_device(ti, vc->parent);
	if (vc->data)
		dm_put_device(ti, vc->data);
	if (vc->dev)
		dm_put_device(ti, vc->dev);
	free_percpu(vc->stats);
	kvfree(vc);
}

static int vdisk_parse_opts(struct vdisk_c *vc, struct dm_arg_set *as)
{
	static const struct dm_arg _args[] = {
		{0, 6, "Invalid number of optional arguments"},
	};
	struct dm_target *ti = vc->ti;
	unsigned int argc, idx;
	const char *opt;
	char dummy;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, &ti->error);
	if (r)
		return r;
	if (as->argc > argc) {
		ti->error = "Unexpected words after the optional arguments";
		return -EINVAL;
	}

	/* Every option takes one value. */
	while (argc) {
		opt = dm_shift_arg(as);
		argc--;
		if (strcasecmp(opt, "parent") && strcasecmp(opt, "data") &&
		    strcasecmp(opt, "snapshot")) {
			ti->error = "Unknown optional argument";
			return -EINVAL;
		}
		if (!argc) {
			ti->error = "Optional argument without its value";
			return -EINVAL;
		}
		argc--;
		if (!strcasecmp(opt, "parent")) {
			if (vc->parent) {
				ti->error = "Parent given twice";
				return -EINVAL;
			}
			r = dm_get_device(ti, dm_shift_arg(as), FMODE_READ,
					  &vc->parent);
			if (r) {
				ti->error = "Parent device lookup failed";
				return r;
			}
		} else if (!strcasecmp(opt, "data")) {
			if (vc->data) {
				ti->error = "Data device given twice";
				return -EINVAL;
			}
			r = dm_get_device(ti, dm_shift_arg(as), FMODE_READ,
					  &vc->data);
			if (r) {
				ti->error = "Data device lookup failed";
				return r;
			}
		} else {
			if (vc->snapshot >= 0) {
				ti->error = "Snapshot given twice";
				return -EINVAL;
			}
			if (sscanf(dm_shift_arg(as), "%u%c", &idx, &dummy) != 1 ||
			    idx > QCOW2_MAX_SNAPSHOTS) {
				ti->error = "Invalid snapshot index";
				return -EINVAL;
			}
			vc->snapshot = idx;
		}
	}
	return 0;
}

/* Largest table block size that divides the device, so none overhangs it. */
static unsigned int vdisk_meta_shift(struct vdisk_c *vc)
{
	unsigned int shift = VDISK_META_MAX_SHIFT;
	unsigned int min_shift = ilog2(bdev_logical_block_size(vc->dev->bdev));
	u64 bytes = (u64)vc->dev_sectors << SECTOR_SHIFT;

	while (shift > min_shift && (bytes & ((1ULL << shift) - 1)))
		shift--;
	return shift;
}

static int vdisk_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct vdisk_c *vc;
	const char *name;
	unsigned int i;
	int r;

	if (argc < 2) {
		ti->error = "Not enough arguments: <dev> <format> [<#opts> <opts>]";
		return -EINVAL;
	}
	if (dm_table_get_mode(ti->table) & FMODE_WRITE) {
		ti->error = "Device must be created read-only";
		return -EINVAL;
	}

	vc = kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	ti->private = vc;
	vc->ti = ti;
	vc->snapshot = -1;
	spin_lock_init(&vc->lock);
	bio_list_init(&vc->deferred);
	INIT_WORK(&vc->work, vdisk_work);

	vc->stats = alloc_percpu(struct vdisk_stats);
	if (!vc->stats) {
		ti->error = "Cannot allocate statistics";
		r = -ENOMEM;
		goto bad;
	}
	atomic_long_set(&vc->mem_bytes, sizeof(*vc) + nr_cpu_ids * sizeof(struct vdisk_stats));

	r = dm_get_device(ti, dm_shift_arg(&as), FMODE_READ, &vc->dev);
	if (r) {
		ti->error = "Image device lookup failed";
		goto bad;
	}
	vc->dev_sectors = bdev_nr_sectors(vc->dev->bdev);
	if (!vc->dev_sectors) {
		ti->error = "Image device is empty";
		r = -EINVAL;
		goto bad;
	}

	name = dm_shift_arg(&as);
	for (i = 0; i < ARRAY_SIZE(vdisk_formats); i++)
		if (!strcmp(name, vdisk_formats[i]->name))
			break;
	if (i == ARRAY_SIZE(vdisk_formats)) {
		ti->error = "Unknown image format";
		r = -EINVAL;
		goto bad;
	}

	r = vdisk_parse_opts(vc, &as);
	if (r)
		goto bad;

	/* Large reads at load time, compressed units later. */
	vc->io_client = dm_io_client_create();
	if (IS_ERR(vc->io_client)) {
		ti->error = "Cannot create dm-io client";
		r = PTR_ERR(vc->io_client);
		vc->io_client = NULL;
		goto bad;
	}

	vc->data_bdev = vc->data ? vc->data->bdev : vc->dev->bdev;
	vc->data_sectors = bdev_nr_sectors(vc->data_bdev);
	vc->meta_shift = vdisk_meta_shift(vc);
	vc->bufio = dm_bufio_client_create(vc->dev->bdev, 1U << vc->meta_shift,
					   1, 0, NULL, NULL, 0);
	if (IS_ERR(vc->bufio)) {
		ti->error = "Cannot create bufio client";
		r = PTR_ERR(vc->bufio);
		vc->bufio = NULL;
		goto bad;
	}

	if ((vc->data || vc->snapshot >= 0) && !vdisk_formats[i]->data_and_snapshots) {
		ti->error = "Format takes no data or snapshot option";
		r = -EINVAL;
		goto bad;
	}
	r = vdisk_formats[i]->ctr(vc);
	vc->fmt = vdisk_formats[i];	/* after ctr: dtr undoes a partial ctr */
	if (r)
		goto bad;

	if (vc->unit_bytes) {
		r = vdisk_alloc_compression(vc);
		if (r) {
			ti->error = r == -EFBIG ?
				"Decompression buffers would exceed their cap" :
				"Cannot allocate decompression buffers";
			goto bad;
		}
		ti->per_io_data_size = sizeof(struct vdisk_mapping);
	}

	if (ti->len > vc->capacity) {
		ti->error = "Target is larger than the image's virtual disk";
		r = -EINVAL;
		goto bad;
	}
	if (vc->parent &&
	    bdev_nr_sectors(vc->parent->bdev) < ti->begin + ti->len) {
		ti->error = "Parent device is smaller than the target";
		r = -EINVAL;
		goto bad;
	}

	if (!is_power_of_2(vc->io_sectors)) {
		ti->error = "Unit size is not a power of two";
		r = -EINVAL;
		goto bad;
	}
	vc->io_shift = ilog2(vc->io_sectors);
	r = vdisk_alloc_cache(vc);
	if (r) {
		ti->error = "Cannot allocate the table cache";
		goto bad;
	}
	/* Headers and top-level tables are held elsewhere or done with. */
	dm_bufio_forget_buffers(vc->bufio, 0, vc->dev_sectors >> (vc->meta_shift - SECTOR_SHIFT));

	r = bioset_init(&vc->bs, BIO_POOL_SIZE, 0, 0);
	if (r) {
		ti->error = "Cannot allocate bio set";
		goto bad;
	}

	vc->wq = alloc_workqueue("kvdiskd", WQ_MEM_RECLAIM | WQ_UNBOUND,
				 1 + vc->n_inflaters);
	if (!vc->wq) {
		ti->error = "Cannot allocate workqueue";
		r = -ENOMEM;
		goto bad;
	}

	ti->num_flush_bios = 0;
	ti->num_discard_bios = 0;
	return 0;
bad:
	vdisk_dtr(ti);
	return r;
}

static void vdisk_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result,
			 unsigned int maxlen)
{
	struct vdisk_c *vc = ti->private;
	u64 sum[VDISK_NR_STATS] = {};
	unsigned int sz = 0, i;
	int cpu;

	switch (type) {
	case STATUSTYPE_INFO:
		for_each_possible_cpu(cpu)
			for (i = 0; i < VDISK_NR_STATS; i++)
				sum[i] += per_cpu_ptr(vc->stats, cpu)->n[i];
		DMEMIT("%s", vc->fmt->name);
		for (i = 0; i < VDISK_NR_STATS; i++)
			DMEMIT(" %llu", sum[i]);
		DMEMIT(" %ld", atomic_long_read(&vc->mem_bytes));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", vc->dev->name, vc->fmt->name);
		if (vc->parent || vc->data || vc->snapshot >= 0)
			DMEMIT(" %u", 2 * (!!vc->parent + !!vc->data + (vc->snapshot >= 0)));
		if (vc->parent)
			DMEMIT(" parent %s", vc->parent->name);
		if (vc->data)
			DMEMIT(" data %s", vc->data->name);
		if (vc->snapshot >= 0)
			DMEMIT(" snapshot %d", vc->snapshot);
		break;
	case STATUSTYPE_IMA:
		/* Like dm-linear's: the devices it reads, by name. */
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",device_name=%s,format=%s", vc->dev->name, vc->fmt->name);
		if (vc->parent)
			DMEMIT(",parent_name=%s", vc->parent->name);
		if (vc->data)
			DMEMIT(",data_name=%s", vc->data->name);
		if (vc->snapshot >= 0)
			DMEMIT(",snapshot=%d", vc->snapshot);
		DMEMIT(";");
		break;
	}
}

/*
 * Suspended (no bio in flight, none mapped until resume): forget every
 * table block and decoded entry, so that after a resume the image is read
 * again, as it may have changed.  dm-verity and dm-ebs do the same.
 */
static void vdisk_postsuspend(struct dm_target *ti)
{
	struct vdisk_c *vc = ti->private;
	struct vdisk_inflater *z;
	unsigned int i;

	flush_workqueue(vc->wq);
	dm_bufio_client_reset(vc->bufio);
	vc->ring_head = 0;
	vc->ring_used = 0;
	vc->ahead_first = VDISK_AHEAD_NONE;
	vc->ahead_last = VDISK_AHEAD_NONE;
	if (vc->slots)
		memset(vc->slots, 0, (vc->slot_mask + 1) * sizeof(*vc->slots));
	for (z = vc->inflaters; z && z < vc->inflaters + vc->n_inflaters; z++)
		for (i = 0; i < z->n_units; i++)
			z->units[i].key = U64_MAX;
}

static int vdisk_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct vdisk_c *vc = ti->private;
	int r;

	r = fn(ti, vc->dev, 0, vc->dev_sectors, data);
	if (!r && vc->data)
		r = fn(ti, vc->data, 0, vc->data_sectors, data);
	if (!r && vc->parent)
		r = fn(ti, vc->parent, ti->begin, ti->len, data);
	return r;
}

static void vdisk_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct vdisk_c *vc = ti->private;

	if (vc->logical_block_size > limits->logical_block_size)
		limits->logical_block_size = vc->logical_block_size;
	if (vc->physical_block_size > limits->physical_block_size)
		limits->physical_block_size = vc->physical_block_size;
	/* A unit, up to 1 MiB (blk_limits_io_opt() is gone in 6.11). */
	limits->io_opt = (unsigned int)min_t(u64, vc->io_sectors << SECTOR_SHIFT, SZ_1M);
}

static struct target_type vdisk_target = {
	.name		 = "vdisk",
	.version	 = {1, 1, 0},
	.module		 = THIS_MODULE,
	.ctr		 = vdisk_ctr,
	.dtr		 = vdisk_dtr,
	.map		 = vdisk_map,
	.status		 = vdisk_status,
	.postsuspend	 = vdisk_postsuspend,
	.iterate_devices = vdisk_iterate_devices,
	.io_hints	 = vdisk_io_hints,
};

static int __init dm_vdisk_init(void)
{
	int r = dm_register_target(&vdisk_target);

	if (r < 0)
		DMERR("register failed %d", r);
	return r;
}

static void __exit dm_vdisk_exit(void)
{
	dm_unregister_target(&vdisk_target);
}

module_init(dm_vdisk_init);
module_exit(dm_vdisk_exit);

MODULE_DESCRIPTION(DM_NAME " target for virtual disk images (VMDK, VHDX, QCOW2)");
MODULE_LICENSE("GPL");
/* libcrc32c (VHDX checksums) needs a crc32c driver: make modprobe load one. */
MODULE_SOFTDEP("pre: crc32c");
