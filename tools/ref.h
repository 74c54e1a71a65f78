/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files named inside an image (extents, parents, data files) and what
 * vdisk lets such a name open: see "Security" in vdisk(8).
 */
#ifndef VDISK_REF_H
#define VDISK_REF_H

#include <stdbool.h>
#include <sys/types.h>

struct vd_image;

enum vd_ref_kind {
	VD_REF_EXTENT,		/* VMDK extent file */
	VD_REF_PARENT,		/* VMDK parentFileNameHint, VHDX parent locator */
	VD_REF_BACKING,		/* QCOW/QCOW2 backing file */
	VD_REF_DATA,		/* QCOW2 external data file */
};

/* One reference an image makes, as info lists it. */
struct vd_ref {
	enum vd_ref_kind kind;
	char *image;		/* the image that names it */
	char *name;		/* as written in the image */
	char *path;		/* where it resolves to */
	bool found;		/* something is there */
	const char *refused;	/* why the policy refuses it, or NULL */
};

struct vd_policy {
	char **allow;		/* --allow, absolute, symlinks resolved */
	bool *allow_dir;	/* ... and whether each is a folder */
	dev_t *allow_rdev;	/* ... the block device each is, or 0 */
	unsigned int n_allow;
	char *top_dir;		/* folder of the image the user named */
	bool lenient;		/* info: note refusals, do not fail on them */
	struct vd_ref *refs;	/* every reference looked at */
	unsigned int n_refs;
};

/* --allow PATH: 0, or -1 having said why in one line. */
int policy_allow(struct vd_policy *p, const char *path);
/* The user named @image: references of its chain may also use its folder. */
void policy_top(struct vd_policy *p, const char *image);
void policy_free(struct vd_policy *p);

const char *ref_kind_name(enum vd_ref_kind kind);

/*
 * Open the file @name that @image names as @kind into @im (as
 * image_open_file() does), if the policy lets it; nothing else is opened
 * for reading.  0 when opened; -1 with one line said when refused or not
 * found; 1 when refused and @p is lenient (nothing said).  *@by_name is
 * set when an --allow names exactly that file.
 */
int ref_open(struct vd_policy *p, enum vd_ref_kind kind, const char *image,
	     const char *name, struct vd_image *im, bool *by_name);
/* Note the reference for info without opening it; its entry in p->refs. */
const struct vd_ref *ref_note(struct vd_policy *p, enum vd_ref_kind kind,
			      const char *image, const char *name);

/* @name would be opened: it is there and the policy lets it be. */
bool ref_usable(const struct vd_policy *p, const char *image, const char *name);

/*
 * Read the first @len bytes of @name, as ref_open() would open it, without
 * noting it as a reference (a candidate looked at, not one the image
 * names).  0, or -1 (nothing said) if refused, missing or short.
 */
int ref_peek(const struct vd_policy *p, const char *image, const char *name,
	     void *buf, size_t len);

#endif
