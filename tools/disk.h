/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtual disk as the helper sees it: extents laid end to end (one for a
 * single-file image, several for a VMDK descriptor), and optionally the
 * disk it is a delta of (its parent, opened recursively).
 */
#ifndef VDISK_DISK_H
#define VDISK_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "image.h"

enum vd_ext_kind {
	VD_EXT_IMAGE,		/* an image file: the vdisk target */
	VD_EXT_FLAT,		/* plain data in a file: linear */
	VD_EXT_ZERO,		/* reads as zeros: zero */
	VD_EXT_ERROR,		/* not readable (NOACCESS): error */
};

struct vd_extent {
	enum vd_ext_kind kind;
	uint64_t start, len;	/* sectors of the virtual disk */
	struct vd_image *im;	/* IMAGE and FLAT */
	uint64_t offset;	/* FLAT: first sector in the file */
	const char *access;	/* as the descriptor says, or NULL */
};

struct vd_disk {
	char *path;
	const char *format;	/* "vmdk", "raw", ... */
	const char *subformat;
	char subformat_buf[64];
	uint64_t capacity;	/* sectors */
	struct vd_extent *ext;
	unsigned int n_ext;
	struct vd_ident ident;
	char *parent_path;	/* ident.parent_name resolved */
	struct vd_disk *parent;
	dev_t st_dev;		/* to notice a chain that loops */
	ino_t st_ino;
};

struct vd_open_opts {
	bool ignore_parent_id;	/* use a parent whose id does not match */
	bool no_parents;	/* resolve the parent's path but do not open it */
	bool no_parent;		/* --no-parent: map the image alone */
	const char *snapshot;	/* internal snapshot of the top image to map */
	const char *format;	/* --format: the top image's, not probed */
	struct vd_policy *pol;	/* what its files may name; NULL: the default */
};

#define VD_MAX_CHAIN 64

struct vd_disk *disk_open(const char *path, const struct vd_open_opts *o);
void disk_close(struct vd_disk *d);
/* Add an extent of @len sectors after the last one. */
struct vd_extent *disk_add_extent(struct vd_disk *d, enum vd_ext_kind kind,
				  uint64_t len);
/* Read @n sectors at virtual sector @vsec as the kernel's stack would. */
int disk_read(struct vd_disk *d, uint64_t vsec, uint64_t n, void *buf);

char *vd_resolve(const char *child, const char *name);
/* A format --format or a backing format may name ("raw" too). */
bool vd_format_known(const char *name);

/* A VMDK descriptor file: make its extents (fmt_vmdk.c). */
bool vmdk_descriptor_probe(const uint8_t *buf, size_t len);
int vmdk_descriptor_open(struct vd_disk *d, struct vd_image *file);

#endif
