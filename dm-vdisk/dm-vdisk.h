/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-vdisk: device-mapper target that maps a virtual disk image (VMDK,
 * VHDX, QCOW2, ...) stored on a block device as the guest's disk.
 */
#ifndef DM_VDISK_H
#define DM_VDISK_H

#include <linux/device-mapper.h>
#include <linux/dm-bufio.h>
#include <linux/dm-io.h>
#include <linux/workqueue.h>
#include <linux/bio.h>
#include <linux/completion.h>

#include "core/qcow2.h"
#include "core/sesparse.h"
#include "core/vdi.h"
#include "core/vhdx.h"
#include "core/vhd.h"
#include "core/vmdk.h"
#include "core/qed.h"
#include "core/parallels.h"

#define DM_MSG_PREFIX "vdisk"

struct vdisk_c;

/* How a metadata lookup may wait for the table block it needs. */
enum vdisk_wait {
	VDISK_NOWAIT,		/* cached blocks only (.map) */
	VDISK_PREFETCH,		/* start reading missing blocks, then give up */
	VDISK_WAIT,		/* read missing blocks (worker) */
};

struct vdisk_inflater;

struct vdisk_format {
	const char *name;
	bool data_and_snapshots;	/* takes the data and snapshot options */
	/* Read and validate the image's header and top-level tables. */
	int (*ctr)(struct vdisk_c *vc);
	void (*dtr)(struct vdisk_c *vc);
	/*
	 * Map virtual sector @vsec.  Returns -EWOULDBLOCK when @wait does not
	 * allow reading a table block that is not cached.
	 */
	int (*lookup)(struct vdisk_c *vc, sector_t vsec, enum vdisk_wait wait,
		      struct vdisk_mapping *m);
	/*
	 * Decompress the unit starting at virtual sector @unit_vsec, which
	 * @m says is compressed, into @dst (vc->unit_bytes), with @z's
	 * buffers: at least its first @want bytes.  Returns how many bytes
	 * of @dst are right (at least @want), or an error.  Called from
	 * @z's work only.
	 */
	long (*decompress)(struct vdisk_c *vc, struct vdisk_inflater *z,
			   const struct vdisk_mapping *m, sector_t unit_vsec,
			   void *dst, unsigned int want);
};

/* A decompressed unit kept for the bios that read the rest of it. */
struct vdisk_unit {
	u64 key;		/* byte where its compressed data starts; U64_MAX: none */
	unsigned int valid;	/* bytes decompressed, from its start */
	void *data;
};

#define VDISK_UNIT_CACHE_MAX	16
#define VDISK_UNIT_CACHE_BYTES	(4U << 20)	/* per device, when it fits the cap */
#define VDISK_MAX_INFLATERS	8
/*
 * What a device's inflaters may hold together: buffers, workspaces and
 * decompressed units, whatever the unit size and CPU count.  One inflater
 * with one unit always fits (a 2 MiB unit needs about 7.8 MiB).
 */
#define VDISK_INFLATE_MAX_BYTES	(16U << 20)

/*
 * The compressed data a batch of bios needs is read at once, into a window
 * of this size: adjacent units in one read, scattered ones in reads that
 * are all in flight together.  Each inflater has three windows: while it
 * inflates one batch, the next is being read, and bios that come in
 * meanwhile start their reads in the third.
 */
#define VDISK_CWIN_BYTES	(512U << 10)
#define VDISK_CWIN_EXTENTS	32
#define VDISK_CWINS		3
/* Sectors read first where the data says its length (a VMDK grain marker). */
#define VDISK_CDATA_FIRST	8
/*
 * Where it does not say it before it is read, a batch reads about the
 * largest length of the last units; the guess shrinks by this fraction
 * with each unit, so one large unit does not set it for good.
 */
#define VDISK_CDATA_DECAY	128
/* An extent grows over a hole this small (a unit stored as zeros, say). */
#define VDISK_CWIN_GAP		16
/* Runs of units that go to the same inflater: sequential reads come in runs. */
#define VDISK_INFLATE_RUN_BYTES	(512U << 10)

struct vdisk_cwin;

/* A range of the image read into a window. */
struct vdisk_cext {
	struct vdisk_cwin *w;
	sector_t sector;
	unsigned int sectors;
	unsigned int off;		/* where in the window */
	int err;
};

/* A window of compressed data, and the bios served from it once read. */
struct vdisk_cwin {
	void *buf;			/* VDISK_CWIN_BYTES, vmalloc */
	unsigned int n_ext;		/* extents it holds now */
	struct vdisk_cext ext[VDISK_CWIN_EXTENTS];
	struct bio_list bios;
	atomic_t pending;		/* extents being read, plus one */
	struct completion done;
};

/*
 * One of a device's decompression workers.  A unit always goes to the same
 * one (runs of VDISK_INFLATE_RUN_BYTES, modulo their count), so each keeps
 * its own buffers and cache of decompressed units without locks, and a
 * sequential reader keeps them all busy.
 */
struct vdisk_inflater {
	struct vdisk_c *vc;
	struct work_struct work;
	spinlock_t lock;		/* protects bios */
	struct bio_list bios;		/* each carries its mapping (per-bio data) */
	/* The rest is the work item's own. */
	struct bio_list todo;		/* taken from bios, in no window yet */
	bool ready;			/* buffers allocated (at its first unit) */
	void *cbuf;			/* room for one compressed unit */
	struct vdisk_cwin win[VDISK_CWINS];
	unsigned int first, n_read;	/* win[first] and on: being read, in order */
	struct vdisk_cwin *cur;		/* the window being served, or NULL */
	u32 cdata_guess;		/* bytes, vdisk_cdata_guess() */
	void *zws;			/* inflate workspace */
	void *zstd_ws;			/* zstd workspace, if the format wants it */
	unsigned int n_units, next_unit;
	struct vdisk_unit units[VDISK_UNIT_CACHE_MAX];
};

/*
 * A decoded mapping of a whole unit, kept so that .map finds it without
 * dm-bufio's lock.  @seq is odd while a writer fills the slot; readers
 * retry nothing, they just take a miss.
 */
struct vdisk_slot {
	atomic_t seq;
	u32 state;
	u64 key;			/* unit number + 1; 0: empty */
	u64 sector;			/* VDISK_DATA: where the unit starts */
};

/* Counters in the INFO status, in this order. */
enum vdisk_stat {
	VDISK_STAT_HITS,	/* table blocks .map found cached */
	VDISK_STAT_MISSES,	/* bios deferred: their table block was not */
	VDISK_STAT_DEFERRED,	/* bios handed to the worker */
	VDISK_STAT_ERRORS,	/* bios failed: writes, table I/O errors, bad entries */
	VDISK_NR_STATS
};

struct vdisk_stats {
	u64 n[VDISK_NR_STATS];
};

struct vdisk_c {
	struct dm_target *ti;
	struct dm_dev *dev;		/* holds the image */
	struct dm_dev *parent;		/* lower layer, or NULL */
	struct dm_dev *data;		/* external data file, or NULL */
	struct block_device *data_bdev;	/* where VDISK_DATA sectors are */
	sector_t data_sectors;
	int snapshot;			/* snapshot to map, or -1 */
	const struct vdisk_format *fmt;
	sector_t dev_sectors;

	struct dm_bufio_client *bufio;	/* table blocks */
	unsigned int meta_shift;	/* log2 of the bufio block size */
	/*
	 * The table blocks this device had dm-bufio read, oldest first; past
	 * ring_size the oldest is forgotten (the per-device cache limit).
	 * Only the worker reads table blocks, so only it touches these.
	 */
	sector_t *ring;
	unsigned int ring_size, ring_head, ring_used;
	unsigned int batch_noted;	/* ring entries the current batch added */
	sector_t ahead_first, ahead_last;	/* the blocks last read ahead */

	/* Any mapping may hold for part of its unit (VHD bitmaps): no slots. */
	bool partial_units;
	struct vdisk_slot *slots;	/* decoded units, or NULL */
	unsigned int slot_mask;
	unsigned int io_shift;		/* log2 of io_sectors */

	sector_t capacity;		/* virtual size, set by fmt->ctr */
	sector_t io_sectors;		/* mapping unit: grain, cluster, ... */
	unsigned int logical_block_size;	/* the disk's, if not 512 */
	unsigned int physical_block_size;

	struct bio_set bs;		/* the worker splits bios mapping apart */

	struct workqueue_struct *wq;
	struct work_struct work;
	spinlock_t lock;		/* protects deferred */
	struct bio_list deferred;

	struct vdisk_stats __percpu *stats;
	atomic_long_t mem_bytes;	/* what vdisk_held() counted */

	/* Compressed images (fmt->ctr sets unit_bytes and cbuf_bytes). */
	u32 unit_bytes;			/* a decompressed unit */
	u32 cbuf_bytes;			/* room for one compressed unit */
	size_t zstd_ws_size;
	struct dm_io_client *io_client;
	unsigned int n_inflaters;
	u32 inflate_run;		/* units in a run (VDISK_INFLATE_RUN_BYTES) */
	struct vdisk_inflater *inflaters;

	union {
		struct {
			struct vmdk_sparse vs;
			__le32 *gd;
		} vmdk;
		struct {
			struct sesparse ss;
			__le64 *gd;
		} sesparse;
		struct {
			struct qcow2 q;
			__be64 *l1;
		} qcow;
		struct {
			struct vhdx v;
			struct vhdx_overlay *ov;	/* the replayed log */
			u8 *pages;
		} vhdx;
		struct {
			struct vhd v;
		} vhd;
		struct {
			struct vdi v;
		} vdi;
		struct {
			struct qed q;
			__le64 *l1;
		} qed;
		struct {
			struct parallels p;
		} parallels;
	};
};

/* Memory a device keeps while it lives, which its status reports. */
static inline void *vdisk_held(struct vdisk_c *vc, void *p, size_t bytes)
{
	if (!IS_ERR_OR_NULL(p))
		atomic_long_add(bytes, &vc->mem_bytes);
	return p;
}

int vdisk_read_bytes(struct vdisk_c *vc, u64 pos, void *buf, size_t len);
void *vdisk_read_table(struct vdisk_c *vc, u64 pos, size_t len);
void *vdisk_read_head(struct vdisk_c *vc, size_t len, const char *what);
int vdisk_read_data(struct vdisk_c *vc, sector_t sector, void *buf,
		    unsigned int sectors);
const void *vdisk_cdata(struct vdisk_c *vc, struct vdisk_inflater *z,
			sector_t sector, unsigned int sectors);
void vdisk_cdata_seen(struct vdisk_inflater *z, unsigned int sectors);
int vdisk_meta_read(struct vdisk_c *vc, u64 pos, void *buf, unsigned int len,
		    enum vdisk_wait wait);

/* The core's table reader (vdisk_read_fn) for lookups from the target. */
struct vdisk_reader {
	struct vdisk_c *vc;
	enum vdisk_wait wait;
};

static inline int vdisk_reader_fn(void *ctx, u64 pos, void *buf,
				  unsigned int len)
{
	struct vdisk_reader *rd = ctx;

	return vdisk_meta_read(rd->vc, pos, buf, len, rd->wait);
}

extern const struct vdisk_format vdisk_vmdk_format;
extern const struct vdisk_format vdisk_sesparse_format;
extern const struct vdisk_format vdisk_qcow_format;
extern const struct vdisk_format vdisk_qcow2_format;
extern const struct vdisk_format vdisk_vhdx_format;
extern const struct vdisk_format vdisk_vhd_format;
extern const struct vdisk_format vdisk_vdi_format;
extern const struct vdisk_format vdisk_qed_format;
extern const struct vdisk_format vdisk_parallels_format;

#endif /* DM_VDISK_H */
