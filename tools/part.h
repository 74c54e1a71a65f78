/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_PART_H
#define VDISK_PART_H

#include <stdint.h>

/*
 * Find partition @n (from 1) in the MBR or GPT of the disk open on @fd:
 * its start and length in 512-byte sectors.  Messages name @what.
 */
int part_find(int fd, const char *what, unsigned int n, uint64_t *start,
	      uint64_t *len);

#endif
