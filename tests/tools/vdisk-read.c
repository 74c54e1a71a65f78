// SPDX-License-Identifier: GPL-2.0
/*
 * vdisk-read [OPTIONS] IMAGE [OFFSET LENGTH]: write the virtual disk's bytes (all, or
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

#include "disk.h"
#include "ref.h"

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
	static struct vd_policy pol;
	struct vd_open_opts opts = { .pol = &pol };
	uint64_t off = 0, len, vsec, end;
	struct vd_disk *d;

	while (argc > 1 && !strncmp(argv[1], "--", 2)) {
		if (!strcmp(argv[1], "--ignore-parent-id"))
			opts.ignore_parent_id = true;
		else if (!strncmp(argv[1], "--snapshot=", 11))
			opts.snapshot = argv[1] + 11;
		else if (!strcmp(argv[1], "--no-parent"))
			opts.no_parent = true;
		else if (!strncmp(argv[1], "--format=", 9))
			opts.format = argv[1] + 9;
		else if (strncmp(argv[1], "--allow=", 8))
			break;
		else if (policy_allow(&pol, argv[1] + 8))
			return 2;
		argv++;
		argc--;
	}
	/* OPTIONS: --ignore-parent-id --snapshot=S --no-parent --format=F --allow=P */
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: vdisk-read [OPTIONS] IMAGE [OFF LEN]\n");
		return 2;
	}
	d = disk_open(argv[1], &opts);
	if (!d)
		return 1;
	len = d->capacity * 512;
	if (argc == 4) {
		off = strtoull(argv[2], NULL, 0);
		len = strtoull(argv[3], NULL, 0);
	}
	if (off % 512 || len % 512 || off > d->capacity * 512 ||
	    len > d->capacity * 512 - off)
		return fail(argv[1], "range outside the disk or not in sectors", 0);

	vsec = off / 512;
	end = vsec + len / 512;
	while (vsec < end) {
		uint64_t run = end - vsec < sizeof(buf) / 512 ? end - vsec : sizeof(buf) / 512;

		if (disk_read(d, vsec, run, buf))
			return fail(argv[1], "I/O error reading at sector", vsec);
		if (emit(buf, run * 512))
			return fail(argv[1], strerror(errno), 0);
		vsec += run;
	}
	disk_close(d);
	return fflush(stdout) ? 1 : 0;
}
