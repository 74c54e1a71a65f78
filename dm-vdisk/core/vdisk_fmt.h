/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Definitions shared by every format decoder of the vdisk core.
 *
 * Decoders take buffers and return decoded values; they never do I/O and
 * never allocate, so the kernel target, the helper, the unit tests and the
 * fuzzers all run the same code.  Sizes and offsets are in 512-byte sectors
 * unless a name says bytes.
 */
#ifndef VDISK_FMT_H
#define VDISK_FMT_H

#include "vdisk_compat.h"

#define VDISK_SECTOR_SHIFT	9
#define VDISK_SECTOR_SIZE	BIT(VDISK_SECTOR_SHIFT)
#define VDISK_SECTOR_MASK	(VDISK_SECTOR_SIZE - 1)

/* Largest virtual disk accepted: 2^50 sectors (512 PiB) keeps byte sizes in u64. */
#define VDISK_MAX_SECTORS	BIT_ULL(50)

/* What a virtual sector maps to once its table entry is decoded. */
enum vdisk_state {
	VDISK_UNALLOCATED,	/* not in this layer: parent, or zeros */
	VDISK_ZERO,		/* reads as zeros */
	VDISK_DATA,		/* stored plainly on the image device */
	VDISK_COMPRESSED,	/* stored compressed: decompress the unit */
	VDISK_CORRUPT,		/* metadata is inconsistent: fail the I/O */
	VDISK_MEMORY,		/* held in memory (a replayed log's pages) */
};

/*
 * A decoded mapping of a virtual sector.  For VDISK_COMPRESSED, @sector is
 * where the compressed unit (grain, cluster) starts on the image device and
 * @offset the virtual sector's place in the decompressed unit.
 */
struct vdisk_mapping {
	enum vdisk_state state;
	u64 sector;		/* VDISK_DATA: sector on the image device */
	u32 offset;		/* VDISK_COMPRESSED: sectors into the unit */
	u32 skip;		/* ... bytes into @sector where the data starts */
	u32 clen;		/* ... compressed bytes, or 0 if the data says */
	/* Sectors from the one mapped that this holds for, if fewer than to
	 * the unit's end; else 0.
	 */
	u32 run;
	/* Holds for only part of its unit: not to be kept for the rest of it. */
	bool part;
	const u8 *mem;		/* VDISK_MEMORY: the data, or NULL for zeros */
};

/*
 * Read @len bytes of table at byte @pos of the image device.  The kernel's
 * reader goes through dm-bufio and may refuse to wait (-EWOULDBLOCK); the
 * tools' reader is pread().
 */
typedef int (*vdisk_read_fn)(void *ctx, u64 pos, void *buf, unsigned int len);

/* True if [start, start + len) lies inside [0, limit), without overflow. */
/*
 * @n / 2^@shift rounded up, without a 64-bit division (a 32-bit kernel has
 * none) and without overflow.
 */
static inline u64 vdisk_div_round_up_shift(u64 n, unsigned int shift)
{
	return (n >> shift) + !!(n & ((1ULL << shift) - 1));
}

static inline bool vdisk_range_ok(u64 start, u64 len, u64 limit)
{
	return start <= limit && len <= limit - start;
}

/* Record why a decoder refused its input; returns @err for tail calls. */
static inline int vdisk_bad(const char **why, const char *reason, int err)
{
	*why = reason;
	return err;
}

#endif /* VDISK_FMT_H */
