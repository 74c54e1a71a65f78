// SPDX-License-Identifier: GPL-2.0
/*
 * vdisk-read IMAGE [OFFSET LENGTH]: write the virtual disk's bytes (all, or
 * LENGTH bytes at OFFSET, both multiples of 512) to stdout, mapped in
 * userspace through the same core decoders and helper code the kernel
 * target and vdisk use.  The host-side tests compare its output with
 * qemu-img's, which checks the decoders without booting a guest.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

static int emit(const void *buf, size_t len)
{
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

static int fail(const char *path, const char *what, uint64_t sector)
{
	err_at(path, "%s %llu", what, (unsigned long long)sector);
	return 1;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	uint64_t off = 0, len, vsec, end;
	struct vd_image im;

	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: vdisk-read IMAGE [OFFSET LENGTH]\n");
		return 2;
	}
	if (image_open(&im, argv[1]))
		return 1;
	len = im.capacity * 512;
	if (argc == 4) {
		off = strtoull(argv[2], NULL, 0);
		len = strtoull(argv[3], NULL, 0);
	}
	if (off % 512 || len % 512 || off > im.capacity * 512 ||
	    len > im.capacity * 512 - off)
		return fail(argv[1], "range outside the disk or not in sectors", 0);

	vsec = off / 512;
	end = vsec + len / 512;
	while (vsec < end) {
		struct vdisk_mapping m;
		uint64_t run = im.io_sectors - vsec % im.io_sectors;
		size_t n;

		if (run > end - vsec)
			run = end - vsec;
		if (run > sizeof(buf) / 512)
			run = sizeof(buf) / 512;
		n = (size_t)run * 512;
		if (im.fmt->map(&im, vsec, &m))
			return fail(argv[1], "cannot read table at sector", vsec);
		switch (m.state) {
		case VDISK_DATA:
			if (!vdisk_range_ok(m.sector, run, im.sectors) ||
			    pread_full(im.fd, buf, n, m.sector * 512))
				return fail(argv[1], "I/O error at sector", vsec);
			break;
		case VDISK_ZERO:
		case VDISK_UNALLOCATED:
			memset(buf, 0, n);
			break;
		case VDISK_CORRUPT:
			return fail(argv[1], "I/O error (corrupt table) at sector", vsec);
		}
		if (emit(buf, n))
			return fail(argv[1], strerror(errno), 0);
		vsec += run;
	}
	image_close(&im);
	return fflush(stdout) ? 1 : 0;
}
