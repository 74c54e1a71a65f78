/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_TAB_H
#define VDISK_TAB_H

#include <stdbool.h>

#define VDISKTAB "/etc/vdisktab"
#define TAB_MAX_ALLOW 16

/* One line of vdisktab(5): NAME IMAGE [OPTIONS]. */
struct tab_entry {
	unsigned int line;
	char name[100];
	char image[4096];
	const char *overlay;	/* overlay=: "ram", "ram:SIZE" or a path */
	const char *format;	/* format= */
	const char *allow[TAB_MAX_ALLOW];
	unsigned int nallow;
	bool no_partitions, no_parent, nofail, noauto, netdev;
	char opts[4096];	/* the option strings point in here */
};

/* The file vdisktab(5) is read from: $VDISKTAB (for tests), else /etc. */
const char *tab_path(void);

/*
 * Find @name in @path.  0 if found and valid; -1 with one line on stderr
 * naming the file, the line and the problem if not found or not valid.
 */
int tab_find(const char *path, const char *name, struct tab_entry *e);

/*
 * The systemd generator: for every line of @path a drop-in for the template
 * vdisk@NAME.service in @dir and the links that start it at boot.  A line
 * that cannot be read is reported and still gets its unit, which then fails
 * on its own with the same message.  Returns 0 unless @dir is unwritable.
 */
int tab_generate(const char *path, const char *dir);

#endif
