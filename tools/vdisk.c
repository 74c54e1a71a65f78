// SPDX-License-Identifier: GPL-2.0
/*
 * vdisk: map virtual disk images read-only through the dm-vdisk target.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dm.h"
#include "image.h"
#include "loop.h"
#include "util.h"

#ifndef VDISK_VERSION
#define VDISK_VERSION "0.1.0"
#endif

#define MAX_DEPS 256

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vdisk [-v] COMMAND [ARGS]\n"
		"\n"
		"Map virtual disk images read-only as block devices (dm-vdisk).\n"
		"\n"
		"Commands:\n"
		"  create NAME IMAGE      map IMAGE as /dev/mapper/NAME and print that path\n"
		"  remove NAME            remove NAME and everything create set up for it\n"
		"  info IMAGE [--json]    describe IMAGE\n"
		"  table DEVICE           print the dm table line for an image on a block device\n"
		"  check IMAGE            check IMAGE's metadata without changing it\n"
		"\n"
		"Options:\n"
		"  -v, --verbose          say what is being done\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"\n"
		"IMAGE is a regular file (attached to a read-only loop device) or a block\n"
		"device. Formats: VMDK hosted sparse (monolithicSparse). See vdisk(8).\n");
}

static int bad_usage(const char *msg)
{
	err_at(NULL, "%s (see vdisk --help)", msg);
	return 2;
}

static void table_params(const struct vd_image *im, dev_t dev, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%u:%u %s", major(dev), minor(dev), im->fmt->name);
}

static int valid_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len >= 100 || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || !strcmp(name, "control"))
		return err_at(name, "invalid device name");
	return 0;
}

/* The target module loads on demand; say so clearly when it cannot. */
static int need_target(void)
{
	if (dm_open_control() < 0)
		return -1;
	if (dm_target_present("vdisk"))
		return 0;
	run_quiet("modprobe", "dm-vdisk", NULL);
	if (dm_target_present("vdisk"))
		return 0;
	return err_at("dm-vdisk", "kernel module is not loaded and modprobe dm-vdisk failed");
}

static int cmd_create(int argc, char **argv)
{
	char params[64], uuid[128];
	struct vd_image im;
	struct dm_info info;
	struct dm_seg seg;
	int lfd = -1, r = 1;
	dev_t dev, dmdev;

	if (argc != 3)
		return bad_usage("create needs NAME and IMAGE");
	if (valid_name(argv[1]) || dm_open_control() < 0 || dm_info(argv[1], &info))
		return 1;
	if (info.exists) {
		err_at(argv[1], "a device-mapper device of that name already exists");
		return 1;
	}
	if (image_open(&im, argv[2]))
		return 1;
	if (need_target())
		goto out;

	if (im.is_blk) {
		dev = im.rdev;
	} else {
		lfd = loop_attach(im.fd, argv[2], &dev);
		if (lfd < 0)
			goto out;
	}
	table_params(&im, dev, params, sizeof(params));
	seg = (struct dm_seg){ 0, im.capacity, "vdisk", params };
	snprintf(uuid, sizeof(uuid), VDISK_UUID_PREFIX "%s", argv[1]);
	dbg("table: 0 %llu vdisk %s", (unsigned long long)im.capacity, params);
	if (dm_create(argv[1], uuid, &seg, 1, &dmdev))
		goto out;
	if (dm_make_node(argv[1], dmdev)) {
		dm_remove(argv[1]);
		goto out;
	}
	printf("/dev/mapper/%s\n", argv[1]);
	r = 0;
out:
	/* The table holds the loop device now; autoclear frees it on remove. */
	if (lfd >= 0)
		close(lfd);
	image_close(&im);
	return r;
}

/* Remove @name, then the layers and loop devices it was built on. */
static int remove_tree(const char *name)
{
	dev_t deps[MAX_DEPS];
	struct dm_info info;
	char dep_name[128], dep_uuid[129];
	int n, i, r = 0;

	if (dm_info(name, &info))
		return -1;
	if (!info.exists)
		return err_at(name, "no such device");
	if (strncmp(info.uuid, VDISK_UUID_PREFIX, strlen(VDISK_UUID_PREFIX)))
		return err_at(name, "not created by vdisk (use dmsetup remove)");
	n = dm_deps(name, deps, MAX_DEPS);
	if (n < 0)
		n = 0;
	if (dm_remove(name)) {
		if (errno == EBUSY)
			return err_at(name, "device is in use");
		return err_at(name, "cannot remove: %s", strerror(errno));
	}
	dm_remove_node(name, info.dev);
	dbg("removed %s", name);

	for (i = 0; i < n; i++) {
		if (loop_is(deps[i])) {
			if (loop_detach(deps[i]))
				r = err_at(name, "cannot detach loop device %u:%u: %s",
					   major(deps[i]), minor(deps[i]),
					   strerror(errno));
			continue;
		}
		if (dm_name_of(deps[i], dep_name, sizeof(dep_name), dep_uuid,
			       sizeof(dep_uuid)) == 0 &&
		    !strncmp(dep_uuid, VDISK_UUID_PREFIX, strlen(VDISK_UUID_PREFIX)) &&
		    remove_tree(dep_name))
			r = -1;
	}
	return r;
}

static int cmd_remove(int argc, char **argv)
{
	if (argc != 2)
		return bad_usage("remove needs NAME");
	if (dm_open_control() < 0)
		return 1;
	return remove_tree(argv[1]) ? 1 : 0;
}

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct vd_image im;
	struct kv_out o;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (c != 'j')
			return bad_usage("unknown info option");
		json = true;
	}
	if (optind != argc - 1)
		return bad_usage("info needs IMAGE");
	if (image_open(&im, argv[optind]))
		return 1;
	kv_begin(&o, stdout, json);
	kv_str(&o, "file", im.path);
	kv_str(&o, "format", im.fmt->name);
	kv_u64(&o, "virtual_size", im.capacity * 512);
	kv_u64(&o, "file_size", im.size);
	im.fmt->info(&im, &o);
	kv_end(&o);
	image_close(&im);
	return 0;
}

static int cmd_table(int argc, char **argv)
{
	struct vd_image im;
	char params[64];

	if (argc != 2)
		return bad_usage("table needs DEVICE");
	if (image_open(&im, argv[1]))
		return 1;
	if (!im.is_blk) {
		err_at(argv[1], "not a block device (use vdisk create, or losetup -r)");
		image_close(&im);
		return 1;
	}
	table_params(&im, im.rdev, params, sizeof(params));
	printf("0 %llu vdisk %s\n", (unsigned long long)im.capacity, params);
	image_close(&im);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct vd_image im;
	struct vd_check c = { 0 };

	if (argc != 2)
		return bad_usage("check needs IMAGE");
	if (image_open(&im, argv[1]))
		return 1;
	c.path = argv[1];
	im.fmt->check(&im, &c);
	printf("%s: %s, %llu bytes virtual, %llu/%llu allocated (%.2f%%), %llu zero\n",
	       argv[1], im.fmt->name, (unsigned long long)im.capacity * 512,
	       (unsigned long long)c.allocated, (unsigned long long)c.total,
	       c.total ? 100.0 * (double)c.allocated / (double)c.total : 0.0,
	       (unsigned long long)c.zero);
	if (c.errors)
		printf("%llu errors were found on the image.\n",
		       (unsigned long long)c.errors);
	else
		printf("No errors were found on the image.\n");
	if (c.warnings)
		printf("%llu warnings.\n", (unsigned long long)c.warnings);
	image_close(&im);
	/* Like qemu-img check: 2 means the image is corrupt. */
	return c.errors ? 2 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "create", cmd_create },
		{ "remove", cmd_remove },
		{ "info", cmd_info },
		{ "table", cmd_table },
		{ "check", cmd_check },
	};
	size_t i;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
			printf("vdisk %s\n", VDISK_VERSION);
			return 0;
		}
		if (strcmp(argv[1], "-v") && strcmp(argv[1], "--verbose"))
			return bad_usage("unknown option");
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	err_at(argv[1], "unknown command (see vdisk --help)");
	return 2;
}
