// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-unit decompression over the kernel's zlib and zstd, or userspace's
 * libz and libzstd: the only file of the core that calls a compression
 * library.
 */
#include "vdisk_inflate.h"

#ifdef __KERNEL__
#include <linux/zlib.h>
#include <linux/zstd.h>
#else
#include <zlib.h>
#include <zstd.h>
#endif

/*
 * A zlib-wrapped stream (VMDK) must end where the data says.  For raw
 * deflate (QCOW) a full output buffer is enough, as for qemu: the
 * compressed length it records may stop short of the stream's end marker.
 */
static bool inflate_done(enum vdisk_deflate_kind kind, bool part, int ret,
			 unsigned int avail_out)
{
	if (ret == Z_STREAM_END)
		return true;
	return (part || kind == VDISK_RAW_DEFLATE) && !avail_out &&
	       (ret == Z_OK || ret == Z_BUF_ERROR);
}

/*
 * A unit is inflated in one call, in which a match may reach back over all
 * of the call's output whatever the window; the window only sizes what
 * zlib copies aside when a call stops before the stream's end (a unit read
 * in part), for a next call that never comes.  QCOW's raw deflate is
 * written and read by qemu with a 4 KiB window; a zlib header names its
 * own window, which must fit.
 */
static int inflate_wbits(enum vdisk_deflate_kind kind)
{
	return kind == VDISK_ZLIB ? MAX_WBITS : -12;
}

#ifdef __KERNEL__

size_t vdisk_zstd_workspace_size(void)
{
	return zstd_dctx_workspace_bound();
}

long vdisk_unzstd(void *workspace, size_t ws_size, const void *src,
		  size_t slen, void *dst, size_t dlen)
{
	zstd_dctx *d = zstd_init_dctx(workspace, ws_size);
	size_t frame = zstd_find_frame_compressed_size(src, slen);
	size_t n;

	if (!d || zstd_is_error(frame) || frame > slen)
		return -EIO;
	n = zstd_decompress_dctx(d, dst, dlen, src, frame);
	return zstd_is_error(n) ? -EIO : (long)n;
}

size_t vdisk_inflate_workspace_size(void)
{
	return zlib_inflate_workspacesize();
}

static long do_inflate(void *workspace, enum vdisk_deflate_kind kind,
		       bool part, const void *src, size_t slen, void *dst,
		       size_t dlen)
{
	z_stream s = { .workspace = workspace };
	long r = -EIO;
	int ret;

	if (zlib_inflateInit2(&s, inflate_wbits(kind)) != Z_OK)
		return -EIO;
	s.next_in = src;
	s.avail_in = slen;
	s.next_out = dst;
	s.avail_out = dlen;
	ret = zlib_inflate(&s, Z_FINISH);
	if (inflate_done(kind, part, ret, s.avail_out))
		r = (long)s.total_out;
	zlib_inflateEnd(&s);
	return r;
}

#else

size_t vdisk_zstd_workspace_size(void)
{
	return 0;
}

long vdisk_unzstd(void *workspace, size_t ws_size, const void *src,
		  size_t slen, void *dst, size_t dlen)
{
	size_t frame = ZSTD_findFrameCompressedSize(src, slen);
	size_t n;

	if (ZSTD_isError(frame) || frame > slen)
		return -EIO;
	n = ZSTD_decompress(dst, dlen, src, frame);
	return ZSTD_isError(n) ? -EIO : (long)n;
}

size_t vdisk_inflate_workspace_size(void)
{
	return 0;
}

static long do_inflate(void *workspace, enum vdisk_deflate_kind kind,
		       bool part, const void *src, size_t slen, void *dst,
		       size_t dlen)
{
	z_stream s;
	long r = -EIO;
	int ret;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, inflate_wbits(kind)) != Z_OK)
		return -EIO;
	s.next_in = (unsigned char *)src;
	s.avail_in = (unsigned int)slen;
	s.next_out = dst;
	s.avail_out = (unsigned int)dlen;
	ret = inflate(&s, Z_FINISH);
	if (inflate_done(kind, part, ret, s.avail_out))
		r = (long)s.total_out;
	inflateEnd(&s);
	return r;
}

#endif /* __KERNEL__ */

long vdisk_inflate(void *workspace, enum vdisk_deflate_kind kind,
		   const void *src, size_t slen, void *dst, size_t dlen)
{
	return do_inflate(workspace, kind, false, src, slen, dst, dlen);
}

long vdisk_inflate_part(void *workspace, enum vdisk_deflate_kind kind,
			const void *src, size_t slen, void *dst, size_t want)
{
	return do_inflate(workspace, kind, true, src, slen, dst, want);
}
