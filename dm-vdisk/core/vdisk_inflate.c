// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-unit decompression over the kernel's zlib and zstd, or userspace's
 * libz and libzstd: the only file of the core that calls a compression
 * library.
 */
#include "vdisk_inflate.h"

#ifdef __KERNEL__
#include <linux/zlib.h>
#include <linux/zutil.h>	/* zlib_adler32() */
#include <linux/zstd.h>
#else
#include <zlib.h>
#include <zstd.h>
#endif

/*
 * Every unit is inflated by one call on a fresh stream, in which a match
 * may reach back over all of the call's output whatever the window.  The
 * window only sizes what zlib copies aside at the end of each call (the
 * kernel's zlib does so even at the stream's end) for a next call that
 * never comes, so streams are opened as raw deflate with the smallest
 * window, and a zlib wrapper, whose header names a window of its own, is
 * read here.
 */
#define INFLATE_WBITS	(-8)

/* RFC 1950: a two-byte header, the deflate data, an adler32 of the output. */
#define ZLIB_HEAD	2
#define ZLIB_TAIL	4

static bool zlib_head_ok(const u8 *p, size_t len)
{
	return len >= ZLIB_HEAD && (p[0] & 0x0f) == Z_DEFLATED &&
	       (p[0] >> 4) <= MAX_WBITS - 8 && !(p[1] & 0x20) &&
	       ((p[0] << 8) | p[1]) % 31 == 0;
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

static u32 inflate_adler32(const void *buf, size_t len)
{
	return zlib_adler32(1, buf, len);
}

/* One call of raw inflate: zlib's code, and the bytes read and written. */
static int raw_inflate(void *workspace, const void *src, size_t slen,
		       void *dst, size_t dlen, size_t *used, size_t *made)
{
	z_stream s = { .workspace = workspace };
	int ret;

	if (zlib_inflateInit2(&s, INFLATE_WBITS) != Z_OK)
		return Z_STREAM_ERROR;
	s.next_in = src;
	s.avail_in = slen;
	s.next_out = dst;
	s.avail_out = dlen;
	ret = zlib_inflate(&s, Z_FINISH);
	*used = slen - s.avail_in;
	*made = dlen - s.avail_out;
	zlib_inflateEnd(&s);
	return ret;
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

static u32 inflate_adler32(const void *buf, size_t len)
{
	return (u32)adler32(1, buf, (unsigned int)len);
}

static int raw_inflate(void *workspace, const void *src, size_t slen,
		       void *dst, size_t dlen, size_t *used, size_t *made)
{
	z_stream s;
	int ret;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, INFLATE_WBITS) != Z_OK)
		return Z_STREAM_ERROR;
	s.next_in = (unsigned char *)src;
	s.avail_in = (unsigned int)slen;
	s.next_out = dst;
	s.avail_out = (unsigned int)dlen;
	ret = inflate(&s, Z_FINISH);
	*used = slen - s.avail_in;
	*made = dlen - s.avail_out;
	inflateEnd(&s);
	return ret;
}

#endif /* __KERNEL__ */

/*
 * A zlib-wrapped stream (VMDK) must end where the data says, with its
 * checksum.  For raw deflate (QCOW) a full output buffer is enough, as for
 * qemu: the compressed length it records may stop short of the stream's
 * end marker.
 */
static long do_inflate(void *workspace, enum vdisk_deflate_kind kind,
		       bool part, const u8 *src, size_t slen, void *dst,
		       size_t dlen)
{
	bool wrapped = kind == VDISK_ZLIB;
	size_t used, made;
	int ret;

	if (wrapped) {
		if (!zlib_head_ok(src, slen))
			return -EIO;
		src += ZLIB_HEAD;
		slen -= ZLIB_HEAD;
	}
	ret = raw_inflate(workspace, src, slen, dst, dlen, &used, &made);
	if (ret == Z_STREAM_END) {
		if (wrapped && (slen - used < ZLIB_TAIL ||
				get_unaligned_be32(src + used) !=
				inflate_adler32(dst, made)))
			return -EIO;
		return (long)made;
	}
	if ((part || !wrapped) && made == dlen &&
	    (ret == Z_OK || ret == Z_BUF_ERROR))
		return (long)made;
	return -EIO;
}

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
