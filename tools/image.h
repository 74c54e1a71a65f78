/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_IMAGE_H
#define VDISK_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ref.h"
#include "util.h"
#include "vdisk_fmt.h"

struct vd_image;

/* Problems "check" found; printed as they are found. */
struct vd_check {
	const char *path;
	uint64_t errors;
	uint64_t warnings;
	uint64_t allocated;	/* data grains/clusters/blocks */
	uint64_t zero;		/* ... that read as zeros */
	uint64_t total;		/* ... in all */
};

struct vd_format {
	const char *name;	/* format keyword of the kernel table */
	bool (*probe)(const uint8_t *buf, size_t len);
	int (*open)(struct vd_image *im);
	void (*info)(struct vd_image *im, struct kv_out *o);
	void (*check)(struct vd_image *im, struct vd_check *c);
	/* Map virtual sector @vsec, as the kernel target does. */
	int (*map)(struct vd_image *im, uint64_t vsec, struct vdisk_mapping *m);
	/* Decompress the unit at @unit_vsec that @m says is compressed. */
	int (*read_unit)(struct vd_image *im, const struct vdisk_mapping *m,
			 uint64_t unit_vsec, void *dst);
	/* Write to the file what it needs replayed (check --repair). */
	int (*repair)(struct vd_image *im);
	void (*close)(struct vd_image *im);
	/* A format recognised by more than its first bytes (a footer). */
	bool (*probe_file)(struct vd_image *im);
};

/*
 * What an image says about itself and its parent (backing file).  Ids are
 * compared as strings: a VMDK CID, a VHDX data write GUID, ...  Ids of one
 * kind compare as written; GUIDs of different kinds compare too (disk.c).
 */
struct vd_ident {
	const char *id_kind;	/* "CID", ... or NULL */
	bool guid;		/* id and parent_id are GUIDs */
	char id[48];		/* this image's id, "" if none */
	char parent_id[48];	/* the id its parent must have, "" if none */
	char *parent_name;	/* backing file as written in the image */
	const char *parent_fmt;	/* backing format it declares, or NULL */
};

struct vd_image {
	char *path;
	int fd;
	uint64_t size;		/* bytes in the file or device */
	uint64_t sectors;	/* whole sectors, as a loop device sees it */
	bool is_blk;		/* then dev is the device itself */
	const struct vd_format *fmt;
	const char *fmt_name;	/* the kernel's keyword: fmt->name, or a variant */
	uint64_t capacity;	/* virtual sectors */
	uint64_t io_sectors;	/* mappings hold within aligned runs of this */
	const char *subformat;
	struct vd_ident ident;
	void *priv;
	dev_t dev;		/* block device holding it, once attached */
	int loop_fd;		/* our loop device, kept open until mapped */
	struct vd_image *data_im;	/* external data file, or NULL */
	const char *snapshot;	/* snapshot to open, as the user named it */
	int snapshot_index;	/* the one opened, or -1 for the active layer */
	struct vd_policy *pol;	/* what the files it names may be */
};

/* Open a file or block device (no format yet); messages name @path. */
int image_open_file(struct vd_image *im, const char *path);
/* The same over @fd, open for reading (taken over, even on failure). */
int image_open_fd(struct vd_image *im, const char *path, int fd);
/* Whether the header is that of format @name ("raw": any). */
bool image_looks_like(struct vd_image *im, const char *name);
/* Open an image as format @name (a kernel keyword), without probing. */
int image_open_as(struct vd_image *im, const char *name);
/* Recognise the format of an open image; 1 if none matches. */
int image_probe(struct vd_image *im);
void image_close(struct vd_image *im);
int image_read(struct vd_image *im, void *buf, size_t len, uint64_t off,
	       const char *what);
/* The core's table reader (vdisk_read_fn) over an image file; ctx is it. */
int image_read_fn(void *ctx, u64 pos, void *buf, unsigned int len);

void check_error(struct vd_check *c, const char *fmt, ...)
	__printf(2, 3);
void check_warn(struct vd_check *c, const char *fmt, ...)
	__printf(2, 3);

/* Metadata and data ranges of an image, to find any two that overlap. */
struct vd_range {
	uint64_t start, len;	/* sectors */
	const char *what;
	uint64_t index;
};

/*
 * Ranges that do not overlap are at most as many as the file's sectors:
 * past @limit (set it so) they are not kept, and an error is reported,
 * so an image cannot make check's memory grow beyond its own size.
 */
struct vd_ranges {
	struct vd_range *r;
	size_t n, max;
	size_t limit;		/* 0: none */
	bool full;
};

/* Positions of tables already checked, so each is read and checked once. */
struct vd_seen {
	uint64_t *slot;		/* position + 1; 0 is free */
	size_t n, cap;
};

/* Note @pos; true if it was noted before. */
bool seen_add(struct vd_seen *s, uint64_t pos);
void seen_free(struct vd_seen *s);

void ranges_add(struct vd_ranges *rs, uint64_t start, uint64_t len,
		const char *what, uint64_t index);
void ranges_check(struct vd_ranges *rs, struct vd_check *c);
void ranges_free(struct vd_ranges *rs);

extern const struct vd_format vd_vmdk_format;
extern const struct vd_format vd_sesparse_format;
extern const struct vd_format vd_qcow2_format;
extern const struct vd_format vd_vhdx_format;
extern const struct vd_format vd_vhd_format;
extern const struct vd_format vd_vdi_format;
extern const struct vd_format vd_qed_format;
extern const struct vd_format vd_parallels_format;

#endif
