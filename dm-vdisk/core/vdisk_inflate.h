/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decompression of whole units (a grain, a cluster) from a buffer into a
 * buffer: the kernel's zlib in the module, libz in userspace.  The caller
 * owns the workspace, so nothing is allocated per call in the kernel.
 */
#ifndef VDISK_INFLATE_H
#define VDISK_INFLATE_H

#include "vdisk_compat.h"

enum vdisk_deflate_kind {
	VDISK_ZLIB,		/* deflate in a zlib wrapper (VMDK) */
	VDISK_RAW_DEFLATE,	/* bare deflate (QCOW) */
};

size_t vdisk_inflate_workspace_size(void);
/*
 * Inflate @slen bytes at @src into @dst, which has room for @dlen bytes.
 * Returns the number of bytes produced, or -EIO for corrupt or oversized
 * input.  Output shorter than @dlen is the caller's to judge.
 */
long vdisk_inflate(void *workspace, enum vdisk_deflate_kind kind,
		   const void *src, size_t slen, void *dst, size_t dlen);
/*
 * The first @want bytes only: the stream is inflated until they are out
 * or it ends, and what follows them is not looked at.  Returns the bytes
 * produced (fewer than @want only if the stream ended first), or -EIO.
 */
long vdisk_inflate_part(void *workspace, enum vdisk_deflate_kind kind,
			const void *src, size_t slen, void *dst, size_t want);

/*
 * The same for one zstd frame at the start of @src; bytes after the frame
 * (qemu pads compressed clusters to a sector) are ignored.
 */
size_t vdisk_zstd_workspace_size(void);
long vdisk_unzstd(void *workspace, size_t ws_size, const void *src,
		  size_t slen, void *dst, size_t dlen);

#endif /* VDISK_INFLATE_H */
