/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_LOOP_H
#define VDISK_LOOP_H

#include <sys/types.h>

/*
 * Attach the open image file @fd read-only (direct I/O where the file
 * system allows) with autoclear, so the loop device goes away when its last
 * user (the dm table) closes it.  Returns an fd of the loop device, which
 * the caller keeps open until the dm table holds the device.
 */
int loop_attach(int fd, const char *path, dev_t *dev);
/* The same, writable: for an overlay's exception store. */
int loop_attach_rw(int fd, const char *path, dev_t *dev);
int loop_is(dev_t dev);
int loop_detach(dev_t dev);

#endif
