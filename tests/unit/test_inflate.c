// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the core's inflate wrapper (libz in userspace). */
#include <stdlib.h>
#include <zlib.h>

#include "tap.h"
#include "vdisk_inflate.h"

static unsigned char src[65536], packed[70000], out[65536], big[70000];

static size_t pack(int window_bits)
{
	z_stream s = { 0 };

	deflateInit2(&s, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
	s.next_in = src;
	s.avail_in = sizeof(src);
	s.next_out = packed;
	s.avail_out = sizeof(packed);
	deflate(&s, Z_FINISH);
	deflateEnd(&s);
	return s.total_out;
}

/* The FCHECK bits that make a zlib header's two bytes a multiple of 31. */
static unsigned char zlib_check(unsigned char cmf, unsigned char flg)
{
	return (unsigned char)(flg + (31 - (cmf * 256 + flg) % 31) % 31);
}

int main(void)
{
	size_t i, n;
	int k;

	printf("TAP version 13\n");
	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7 / 13);

	n = pack(15);
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)),
	       sizeof(out), "zlib-wrapped data inflates whole");
	tap_ok(!memcmp(src, out, sizeof(out)), "... to the original");
	tap_is(vdisk_inflate(NULL, VDISK_RAW_DEFLATE, packed, n, out, sizeof(out)),
	       -EIO, "zlib data read as raw deflate fails");
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n - 4, out, sizeof(out)),
	       -EIO, "truncated stream fails");
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out) - 1),
	       -EIO, "output larger than the buffer fails");
	memset(out, 0, sizeof(out));
	tap_is(vdisk_inflate_part(NULL, VDISK_ZLIB, packed, n, out, 12288), 12288,
	       "part of a zlib stream: the bytes wanted");
	tap_ok(!memcmp(src, out, 12288) && !out[12288] && !out[sizeof(out) - 1],
	       "... the original's first ones, and nothing past them");
	tap_is(vdisk_inflate_part(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)),
	       sizeof(out), "part as large as the whole: the whole");
	tap_is(vdisk_inflate_part(NULL, VDISK_ZLIB, packed, n, big, sizeof(big)),
	       sizeof(src), "part past the stream's end: what the stream holds");
	tap_is(vdisk_inflate_part(NULL, VDISK_ZLIB, packed, 16, out, 12288), -EIO,
	       "part of a stream cut before the bytes wanted fails");
	packed[n - 1] ^= 1;
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)), -EIO,
	       "a wrong adler32 fails");
	tap_is(vdisk_inflate_part(NULL, VDISK_ZLIB, packed, n, out, 12288), 12288,
	       "... but not a part, which never reaches it");
	packed[n - 1] ^= 1;
	packed[1] ^= 0x20;	/* FDICT, header check left wrong */
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)), -EIO,
	       "a zlib header failing its check fails");
	packed[1] &= 0xe0;
	packed[1] += zlib_check(packed[0], packed[1]);
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)), -EIO,
	       "a zlib header asking for a preset dictionary fails");
	packed[0] = 0x88;	/* a 64 KiB window: none such */
	packed[1] = zlib_check(packed[0], 0);
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)), -EIO,
	       "a zlib header naming a window past 32 KiB fails");
	packed[0] = 0x79;	/* method 9 */
	packed[1] = zlib_check(packed[0], 0);
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)), -EIO,
	       "a zlib header naming a method other than deflate fails");
	packed[0] = 0x78;
	packed[1] = zlib_check(packed[0], 0x80);
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, n, out, sizeof(out)),
	       sizeof(out), "... and any right header passes");
	tap_is(vdisk_inflate(NULL, VDISK_ZLIB, packed, 1, out, sizeof(out)), -EIO,
	       "a stream shorter than its header fails");

	n = pack(-15);
	tap_is(vdisk_inflate(NULL, VDISK_RAW_DEFLATE, packed, n, out, sizeof(out)),
	       sizeof(out), "raw deflate inflates whole");
	tap_is(vdisk_inflate(NULL, VDISK_RAW_DEFLATE, packed, n - 8, out, sizeof(out)),
	       -EIO, "truncated raw deflate fails");
	tap_is(vdisk_inflate(NULL, VDISK_RAW_DEFLATE, packed, n, out, 4096), 4096,
	       "raw deflate filling the output is enough, as for qemu");
	tap_is(vdisk_inflate_part(NULL, VDISK_RAW_DEFLATE, packed, n, out, 4096), 4096,
	       "part of raw deflate");
	tap_ok(!memcmp(src, out, 4096), "... the original's first bytes");
	packed[n / 2] ^= 0xff;
	tap_ok(vdisk_inflate(NULL, VDISK_RAW_DEFLATE, packed, n, out, sizeof(out)) !=
	       (long)sizeof(out) || memcmp(src, out, sizeof(out)),
	       "corrupt raw deflate does not pass for the original");

	/*
	 * Matches 20000 bytes back, past the smallest window streams are
	 * opened with: a unit is inflated in one call, which reaches them.
	 */
	for (i = 0, n = 1; i < 20000; i++) {
		n = n * 1103515245 + 12345;
		src[i] = (unsigned char)(n >> 16);
	}
	for (; i < sizeof(src); i++)
		src[i] = src[i - 20000];
	for (k = 0; k < 2; k++) {
		enum vdisk_deflate_kind kind = k ? VDISK_ZLIB : VDISK_RAW_DEFLATE;

		n = pack(k ? 15 : -15);
		tap_is(vdisk_inflate(NULL, kind, packed, n, out, sizeof(out)),
		       sizeof(out), k ? "zlib with a 32 KiB window inflates whole" :
		       "raw deflate with a 32 KiB window inflates whole");
		tap_ok(!memcmp(src, out, sizeof(out)), "... to the original");
		memset(out, 0, sizeof(out));
		tap_is(vdisk_inflate_part(NULL, kind, packed, n, out, 30000),
		       30000, "and in part");
		tap_ok(!memcmp(src, out, 30000), "... to the original's first bytes");
	}
	return tap_done();
}
