/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMDK text descriptors, embedded in a sparse extent or in a file of their
 * own.  Only userspace parses them (the kernel target maps one extent and is
 * told its geometry by the table), but the parser follows the core's rules:
 * no allocation, no I/O, strings returned as slices of the caller's text.
 */
#ifndef VDISK_VMDK_DESC_H
#define VDISK_VMDK_DESC_H

#include "vdisk_fmt.h"

#define VMDK_DESC_MAX_BYTES	BIT(20)

enum vmdk_access { VMDK_ACCESS_RW, VMDK_ACCESS_RDONLY, VMDK_ACCESS_NOACCESS };

enum vmdk_extent_type {
	VMDK_EXTENT_FLAT,
	VMDK_EXTENT_SPARSE,
	VMDK_EXTENT_ZERO,
	VMDK_EXTENT_VMFS,
	VMDK_EXTENT_VMFSSPARSE,
	VMDK_EXTENT_VMFSRDM,
	VMDK_EXTENT_VMFSRAW,
	VMDK_EXTENT_SESPARSE,
};

struct vmdk_str {
	const char *p;		/* not NUL-terminated; NULL if absent */
	u32 len;
};

struct vmdk_extent_line {
	enum vmdk_access access;
	enum vmdk_extent_type type;
	u64 sectors;
	u64 offset;		/* FLAT/VMFS: first sector in the file */
	struct vmdk_str file;
};

struct vmdk_desc {
	struct vmdk_str create_type;
	struct vmdk_str parent_hint;	/* parentFileNameHint */
	u32 cid;
	u32 parent_cid;
	bool has_cid;
	bool has_parent_cid;
	u32 n_extents;			/* extent lines seen */
	u64 total_sectors;		/* their sum */
	/* Caller-provided room for the first max_extents extent lines. */
	struct vmdk_extent_line *extents;
	u32 max_extents;
};

int vmdk_parse_descriptor(const char *text, size_t len, struct vmdk_desc *d,
			  u32 *bad_line, const char **why);
bool vmdk_str_eq(struct vmdk_str s, const char *lit);
const char *vmdk_extent_type_name(enum vmdk_extent_type t);
const char *vmdk_access_name(enum vmdk_access a);

#endif /* VDISK_VMDK_DESC_H */
