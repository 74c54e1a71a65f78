/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_PART_H
#define VDISK_PART_H

#include <stdint.h>

struct vd_part {
	unsigned int n;		/* its number, as Linux gives it */
	uint64_t start, len;	/* 512-byte sectors */
};

/*
 * Find partition @n (from 1) in the MBR or GPT of the disk open on @fd:
 * its start and length in 512-byte sectors.  Messages name @what.
 */
int part_find(int fd, const char *what, unsigned int n, uint64_t *start,
	      uint64_t *len);
/*
 * Every partition of the disk on @fd that can be read and lies inside it,
 * at most @max: their count (0 without a readable partition table).
 */
int part_list(int fd, struct vd_part *parts, unsigned int max);

#endif
