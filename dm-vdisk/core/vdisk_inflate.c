// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-unit inflate over the kernel's zlib or userspace's libz: the only
 * file of the core that calls a compression library.
 */
#include "vdisk_inflate.h"

#ifdef __KERNEL__
#include <linux/zlib.h>

size_t vdisk_inflate_workspace_size(void)
{
	return zlib_inflate_workspacesize();
}

long vdisk_inflate(void *workspace, enum vdisk_deflate_kind kind,
		   const void *src, size_t slen, void *dst, size_t dlen)
{
	z_stream s = { .workspace = workspace };
	long r = -EIO;

	if (zlib_inflateInit2(&s, kind == VDISK_ZLIB ? MAX_WBITS : -MAX_WBITS) != Z_OK)
		return -EIO;
	s.next_in = src;
	s.avail_in = slen;
	s.next_out = dst;
	s.avail_out = dlen;
	if (zlib_inflate(&s, Z_FINISH) == Z_STREAM_END)
		r = (long)s.total_out;
	zlib_inflateEnd(&s);
	return r;
}

#else
#include <zlib.h>

size_t vdisk_inflate_workspace_size(void)
{
	return 0;
}

long vdisk_inflate(void *workspace, enum vdisk_deflate_kind kind,
		   const void *src, size_t slen, void *dst, size_t dlen)
{
	z_stream s;
	long r = -EIO;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, kind == VDISK_ZLIB ? MAX_WBITS : -MAX_WBITS) != Z_OK)
		return -EIO;
	s.next_in = (unsigned char *)src;
	s.avail_in = (unsigned int)slen;
	s.next_out = dst;
	s.avail_out = (unsigned int)dlen;
	if (inflate(&s, Z_FINISH) == Z_STREAM_END)
		r = (long)s.total_out;
	inflateEnd(&s);
	return r;
}

#endif /* __KERNEL__ */
