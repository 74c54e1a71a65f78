/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels dm-vdisk builds for, selected by what
 * Kbuild finds in the kernel's headers (see Kbuild).
 */
#ifndef DM_VDISK_COMPAT_H
#define DM_VDISK_COMPAT_H

#include <linux/dm-io.h>
#include <linux/ioprio.h>

static inline int vdisk_dm_io(struct dm_io_request *req,
			      struct dm_io_region *where)
{
#if defined(VDISK_DM_IO_UNSUP_BITS)
	return dm_io(req, 1, where, NULL, NULL, IOPRIO_DEFAULT);
#elif defined(VDISK_DM_IO_IOPRIO)
	return dm_io(req, 1, where, NULL, IOPRIO_DEFAULT);
#else
	return dm_io(req, 1, where, NULL);
#endif
}

/*
 * dm-io's completion callback: 7.3 also passes the regions that do not
 * support the request, as it reports them apart from errors.
 */
#if defined(VDISK_DM_IO_UNSUP_BITS)
#define VDISK_IO_NOTIFY_FN(name) \
	void name(unsigned long error, unsigned long unsup, void *context)
#define VDISK_IO_NOTIFY_FAILED	(error || unsup)
#else
#define VDISK_IO_NOTIFY_FN(name) void name(unsigned long error, void *context)
#define VDISK_IO_NOTIFY_FAILED	(error)
#endif

#endif /* DM_VDISK_COMPAT_H */
