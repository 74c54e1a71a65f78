/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_DM_H
#define VDISK_DM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VDISK_UUID_PREFIX "VDISK-"

struct dm_seg {
	uint64_t start, len;		/* sectors */
	const char *type;
	const char *params;
};

struct dm_info {
	bool exists;
	dev_t dev;
	int open_count;
	char uuid[129];
};

int dm_open_control(void);
int dm_target_present(const char *type);
int dm_info(const char *name, struct dm_info *info);
/* Create @name from @segs (read-only unless @rw) and resume it. */
int dm_create(const char *name, const char *uuid, const struct dm_seg *segs,
	      unsigned int nsegs, dev_t *dev, bool rw);
/* The status line of @name's first target ("" if none), its type in @type. */
int dm_status(const char *name, char *type, size_t tlen, char *buf, size_t len);
int dm_remove(const char *name);
/* Devices @name's table depends on; returns the count (at most @max). */
int dm_deps(const char *name, dev_t *deps, int max);
/* Names of every device-mapper device (@n of them); NULL on error. */
char **dm_list(unsigned int *n);
int dm_name_of(dev_t dev, char *name, size_t len, char *uuid, size_t ulen);
/* Make /dev/mapper/@name usable: wait for udev or create the node. */
int dm_make_node(const char *name, dev_t dev);
void dm_remove_node(const char *name, dev_t dev);

#endif
