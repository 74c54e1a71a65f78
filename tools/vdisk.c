// SPDX-License-Identifier: GPL-2.0
/*
 * vdisk: map virtual disk images read-only through the dm-vdisk target.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk.h"
#include "dm.h"
#include "image.h"
#include "loop.h"
#include "part.h"
#include "ref.h"
#include "tab.h"
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
		"  create NAME IMAGE [--ignore-parent-id] [--snapshot ID|NAME]\n"
		"                    [--overlay DEV|FILE|ram[:SIZE]] [--partition N]\n"
		"                    [--no-parent] [--no-partitions]\n"
		"                         map IMAGE as /dev/mapper/NAME and print that path,\n"
		"                         its partitions as NAMEp1, NAMEp2, ...;\n"
		"                         with --overlay NAME is writable (dm-snapshot);\n"
		"                         with --partition NAME is partition N of the disk;\n"
		"                         with --no-parent what IMAGE lacks reads as zeros\n"
		"  remove NAME            remove NAME and everything create set up for it\n"
		"  list [--json]          the devices vdisk made: images, format, size,\n"
		"                         overlay, partitions\n"
		"  mount IMAGE DIR [--partition N] [-o OPTIONS] [--overlay ...]\n"
		"                         map IMAGE and mount its file system on DIR,\n"
		"                         read-only unless there is an overlay\n"
		"  umount DIR             unmount DIR and remove what mount made\n"
		"  attach NAME            map the image /etc/vdisktab names NAME (vdisktab(5))\n"
		"  detach NAME            remove NAME if it is mapped\n"
		"  info IMAGE|NAME [--json]\n"
		"                         describe IMAGE and the files it names, or the\n"
		"                         device NAME\n"
		"  table DEVICE           print the dm table line for an image on a block device\n"
		"  check IMAGE [--repair] check IMAGE's metadata; --repair writes a VHDX\n"
		"                         log's replay to the file, nothing else\n"
		"\n"
		"Options of create, info, table and check:\n"
		"  --allow PATH           files inside images may name PATH (a folder and\n"
		"                         what is beneath it, a file or a block device);\n"
		"                         by default only files beneath the image's folder\n"
		"  --format FMT           IMAGE is FMT (vmdk, sesparse, qcow, qcow2, vhdx,\n"
		"                         vhd or vpc, vdi, qed, parallels, raw): no probing\n"
		"\n"
		"Options:\n"
		"  -v, --verbose          say what is being done\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"\n"
		"IMAGE is a regular file (attached to a read-only loop device) or a block\n"
		"device; parents (backing files) are mapped below it. Formats: VMDK\n"
		"(sparse, flat, stream, descriptors, vmfsSparse, seSparse), QCOW,\n"
		"QCOW2, VHDX, VHD, VDI, QED and Parallels. See vdisk(8).\n");
}

static int bad_usage(const char *msg)
{
	err_at(NULL, "%s (see vdisk --help)", msg);
	return 2;
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

static int remove_tree(const char *name);

/* Devices vdisk made carry a VDISK-<name> uuid: remove touches only those. */
static int create_dev(const char *name, const struct dm_seg *segs,
		      unsigned int nsegs, bool rw, dev_t *dev)
{
	char uuid[192];

	snprintf(uuid, sizeof(uuid), VDISK_UUID_PREFIX "%s", name);
	return dm_create(name, uuid, segs, nsegs, dev, rw);
}

static bool made_by_vdisk(const char *uuid)
{
	return !strncmp(uuid, VDISK_UUID_PREFIX, strlen(VDISK_UUID_PREFIX));
}

/* Tail devices made before a failure: remove them (and their loops). */
static void remove_tails(const char *name)
{
	char lname[160];
	struct dm_info info;
	unsigned int i;

	for (i = 0; i < 256; i++) {
		snprintf(lname, sizeof(lname), "%s-T%u", name, i);
		if (dm_info(lname, &info) || !info.exists)
			break;
		remove_tree(lname);
	}
}

/*
 * A loop device ends at the file's last whole sector.  For a file that
 * ends part-way into one (QCOW v1 images may), the rest goes on a second
 * loop device over an unlinked temporary file holding that sector padded
 * with zeros, and a linear device joins the two.
 */
static int attach_tail(struct vd_image *im, const char *name, unsigned int *n)
{
	char tmp[] = "/run/vdisk-tail.XXXXXX", lname[160], p0[64], p1[64];
	uint8_t last[512] = { 0 };
	uint64_t whole = im->size / 512;
	struct dm_seg segs[2];
	dev_t tail_dev;
	int fd, tail_fd, r;

	fd = mkstemp(tmp);
	if (fd < 0)
		return err_at(im->path, "cannot make a file for its last sector: %s",
			      strerror(errno));
	unlink(tmp);
	r = pread_full(im->fd, last, im->size % 512, whole * 512) ||
	    pwrite(fd, last, sizeof(last), 0) != sizeof(last);
	tail_fd = r ? -1 : loop_attach(fd, im->path, &tail_dev);
	close(fd);
	if (tail_fd < 0)
		return r ? err_at(im->path, "cannot copy its last sector") : -1;

	snprintf(lname, sizeof(lname), "%s-T%u", name, (*n)++);
	snprintf(p0, sizeof(p0), "%u:%u 0", major(im->dev), minor(im->dev));
	snprintf(p1, sizeof(p1), "%u:%u 0", major(tail_dev), minor(tail_dev));
	segs[0] = (struct dm_seg){ 0, whole, "linear", p0 };
	segs[1] = (struct dm_seg){ whole, 1, "linear", p1 };
	r = whole ? create_dev(lname, segs, 2, false, &im->dev) :
		create_dev(lname, &segs[1], 1, false, &im->dev);
	close(tail_fd);
	return r;
}

static int attach(struct vd_image *im, const char *name, unsigned int *tails)
{
	if (im->dev)
		return 0;
	im->loop_fd = loop_attach(im->fd, im->path, &im->dev);
	if (im->loop_fd < 0)
		return -1;
	if (im->size % 512)
		return attach_tail(im, name, tails);
	return 0;
}

/* Attach the image files of every layer to loop devices. */
static int attach_all(struct vd_disk *d, const char *name)
{
	unsigned int i, tails = 0;

	for (; d; d = d->parent) {
		for (i = 0; i < d->n_ext; i++) {
			struct vd_image *im = d->ext[i].im;

			if (im && attach(im, name, &tails))
				return -1;
			if (im && im->data_im && attach(im->data_im, name, &tails))
				return -1;
		}
	}
	return 0;
}

static char *xasprintf(const char *fmt, ...) __printf(1, 2);
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		err_at(NULL, "out of memory");
		exit(1);
	}
	return s;
}

/* "<dev> <format> [<#opts> parent <dev> data <dev> snapshot <n>]" */
static char *image_params(const struct vd_image *im, const char *parent)
{
	char opts[128] = "", dev[64];
	unsigned int n = 0;

	if (parent) {
		n += 2;
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 " parent %s", parent);
	}
	if (im->data_im) {
		n += 2;
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 " data %u:%u", major(im->data_im->dev), minor(im->data_im->dev));
	}
	if (im->snapshot_index >= 0) {
		n += 2;
		snprintf(opts + strlen(opts), sizeof(opts) - strlen(opts),
			 " snapshot %d", im->snapshot_index);
	}
	snprintf(dev, sizeof(dev), "%u:%u %s", major(im->dev), minor(im->dev),
		 im->fmt_name);
	return n ? xasprintf("%s %u%s", dev, n, opts) : xasprintf("%s", dev);
}

/*
 * The table of one layer: its extents clipped to @len sectors (the top
 * disk's size), padded with zeros when the layer is shorter.
 */
static unsigned int layer_table(struct vd_disk *d, uint64_t len,
				const char *parent, struct dm_seg *segs)
{
	unsigned int i, n = 0;

	for (i = 0; i < d->n_ext && d->ext[i].start < len; i++) {
		struct vd_extent *e = &d->ext[i];
		struct dm_seg *s = &segs[n++];
		dev_t dev = e->im ? e->im->dev : 0;

		s->start = e->start;
		s->len = e->len < len - e->start ? e->len : len - e->start;
		switch (e->kind) {
		case VD_EXT_IMAGE:
			s->type = "vdisk";
			s->params = image_params(e->im, parent);
			break;
		case VD_EXT_FLAT:
			s->type = "linear";
			s->params = xasprintf("%u:%u %llu", major(dev), minor(dev),
					      (unsigned long long)e->offset);
			break;
		case VD_EXT_ZERO:
			s->type = "zero";
			s->params = xasprintf("%s", "");
			break;
		case VD_EXT_ERROR:
			s->type = "error";
			s->params = xasprintf("%s", "");
			break;
		}
	}
	if (d->capacity < len)
		segs[n++] = (struct dm_seg){ d->capacity, len - d->capacity, "zero",
					     xasprintf("%s", "") };
	return n;
}

static void layer_name(char *buf, size_t len, const char *name, unsigned int i)
{
	if (i)
		snprintf(buf, len, "%s-L%u", name, i);
	else
		snprintf(buf, len, "%s", name);
}

/* Create the dm devices of every layer, the deepest first. */
static int create_layers(const char *name, struct vd_disk *top)
{
	struct vd_disk *layers[VD_MAX_CHAIN], *d;
	char lname[160], parent[32] = "";
	unsigned int n = 0, i, j, nsegs;
	struct dm_info info;
	struct dm_seg *segs;
	dev_t dev;
	int r;

	for (d = top; d; d = d->parent)
		layers[n++] = d;
	for (i = 0; i < n; i++) {
		layer_name(lname, sizeof(lname), name, i);
		if (dm_info(lname, &info))
			return -1;
		if (info.exists)
			return err_at(lname, "a device-mapper device of that name already exists");
	}
	for (i = n; i-- > 0;) {
		d = layers[i];
		layer_name(lname, sizeof(lname), name, i);
		segs = xcalloc(d->n_ext + 1, sizeof(*segs));
		nsegs = layer_table(d, top->capacity, parent[0] ? parent : NULL, segs);
		for (j = 0; j < nsegs; j++)
			dbg("%s: %llu %llu %s %s", lname, (unsigned long long)segs[j].start,
			    (unsigned long long)segs[j].len, segs[j].type, segs[j].params);
		r = create_dev(lname, segs, nsegs, false, &dev);
		for (j = 0; j < nsegs; j++)
			free((char *)segs[j].params);
		free(segs);
		if (r) {
			/* Undo the layers made so far: the one above is their top. */
			if (i + 1 < n) {
				layer_name(lname, sizeof(lname), name, i + 1);
				remove_tree(lname);
			}
			return -1;
		}
		snprintf(parent, sizeof(parent), "%u:%u", major(dev), minor(dev));
	}
	if (dm_make_node(name, dev)) {
		remove_tree(name);
		return -1;
	}
	return 0;
}

/* "512M", "4G", ... in bytes; 0 if it is not a size. */
static uint64_t parse_size(const char *s)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *u;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	if (!*end)
		return n;
	u = strchr(units, *end);
	if (!u || end[1])
		return 0;
	return n << (10 * (u - units + 1));
}

/*
 * The exception store of an overlay: "ram[:SIZE]" is a sparse file in
 * /run, unlinked (so it lives as long as the device), used non-persistent;
 * a block device or a file (created sparse, the disk's size, if missing)
 * is persistent, so its changes survive a remove and a new create.
 */
static int overlay_store(const char *spec, uint64_t disk_bytes, dev_t *dev,
			 int *loop_fd, char *persistent)
{
	char tmp[] = "/run/vdisk-overlay.XXXXXX";
	uint64_t size = disk_bytes;
	struct stat st;
	int fd;

	*persistent = 'P';
	if (!stat(spec, &st) && S_ISBLK(st.st_mode)) {
		*dev = st.st_rdev;
		return 0;
	}
	if (!strncmp(spec, "ram", 3) && (!spec[3] || spec[3] == ':')) {
		if (spec[3])
			size = parse_size(spec + 4);
		if (!size)
			return err_at(spec, "overlay size is not a size (like 512M or 4G)");
		*persistent = 'N';
		fd = mkstemp(tmp);
		if (fd < 0)
			return err_at(tmp, "cannot make the overlay: %s", strerror(errno));
		unlink(tmp);
		spec = "ram overlay";
	} else {
		fd = open(spec, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_at(spec, "cannot open the overlay: %s", strerror(errno));
		if (fstat(fd, &st) || st.st_size)
			size = 0;	/* an existing store keeps its size */
	}
	if (size && ftruncate(fd, (off_t)size)) {
		err_at(spec, "cannot size the overlay: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*loop_fd = loop_attach_rw(fd, spec, dev);
	close(fd);
	return *loop_fd < 0 ? -1 : 0;
}

/*
 * A writable @name over the read-only disk @base: dm-snapshot, writes going
 * to the exception store, 4 KiB chunks.
 */
static int create_overlay(const char *name, const char *base, uint64_t sectors,
			  const char *spec)
{
	char params[128], persistent;
	struct dm_info info;
	struct dm_seg seg;
	int loop_fd = -1, r;
	dev_t cow, dev;

	if (dm_info(base, &info) || overlay_store(spec, sectors * 512, &cow, &loop_fd,
						  &persistent))
		return -1;
	snprintf(params, sizeof(params), "%u:%u %u:%u %c 8", major(info.dev),
		 minor(info.dev), major(cow), minor(cow), persistent);
	seg = (struct dm_seg){ 0, sectors, "snapshot", params };
	r = create_dev(name, &seg, 1, true, &dev);
	if (loop_fd >= 0)
		close(loop_fd);	/* autoclear detaches it if the table did not take it */
	return r ? r : dm_make_node(name, dev);
}

#define MAX_PARTS 256

/* @name: @len sectors of the disk @disk from @start, as dm-linear. */
static int linear_over(const char *name, dev_t disk, uint64_t start, uint64_t len,
		       bool rw)
{
	char params[64];
	struct dm_seg seg;
	dev_t dev;

	snprintf(params, sizeof(params), "%u:%u %llu", major(disk), minor(disk),
		 (unsigned long long)start);
	seg = (struct dm_seg){ 0, len, "linear", params };
	if (create_dev(name, &seg, 1, rw, &dev))
		return -1;
	return dm_make_node(name, dev);
}

static int open_disk(const char *disk, struct dm_info *info)
{
	char node[192];
	int fd;

	snprintf(node, sizeof(node), "/dev/mapper/%s", disk);
	if (dm_info(disk, info))
		return -1;
	fd = open(node, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_at(node, "%s", strerror(errno));
	return fd;
}

/* @name: partition @n of the disk @disk, as dm-linear (kpartx does so). */
static int create_partition(const char *name, const char *disk, unsigned int n,
			    bool rw, const char *image)
{
	uint64_t start, len;
	struct dm_info info;
	int fd = open_disk(disk, &info), r;

	if (fd < 0)
		return -1;
	r = part_find(fd, image, n, &start, &len);
	close(fd);
	return r ? -1 : linear_over(name, info.dev, start, len, rw);
}

/* "<disk>p<N>", kpartx's name for partition N of <disk>. */
static bool part_name(const char *name, const char *disk)
{
	size_t n = strlen(disk);

	return !strncmp(name, disk, n) && name[n] == 'p' && name[n + 1] &&
	       strspn(name + n + 1, "0123456789") == strlen(name + n + 1);
}

/* @name is a partition vdisk made over the device @disk_dev. */
static bool is_partition(const char *name, const struct dm_info *info, dev_t disk_dev)
{
	dev_t deps[2];

	return made_by_vdisk(info->uuid) && dm_deps(name, deps, 2) == 1 &&
	       deps[0] == disk_dev;
}

/* The partition devices vdisk made over @disk (NULL-terminated names). */
static char **partitions_of(const char *disk, dev_t disk_dev)
{
	unsigned int n, i, k = 0;
	char **names = dm_list(&n), **out = xcalloc(n + 1, sizeof(*out));
	struct dm_info info;

	for (i = 0; names && i < n; i++) {
		if (part_name(names[i], disk) && !dm_info(names[i], &info) && info.exists &&
		    is_partition(names[i], &info, disk_dev))
			out[k++] = names[i];
		else
			free(names[i]);
	}
	free(names);
	return out;
}

static void free_names(char **names)
{
	char **p;

	for (p = names; *p; p++)
		free(*p);
	free(names);
}

/* Remove the partition devices over @disk: -1 if one cannot go. */
static int remove_partitions(const char *disk, dev_t disk_dev)
{
	char **parts = partitions_of(disk, disk_dev), **p;
	struct dm_info info;
	int r = 0;

	for (p = parts; *p && !r; p++) {
		if (dm_info(*p, &info) || dm_remove(*p)) {
			r = err_at(*p, errno == EBUSY ? "device is in use" : "cannot remove: %s",
				   strerror(errno));
			break;
		}
		dm_remove_node(*p, info.dev);
		dbg("removed %s", *p);
	}
	free_names(parts);
	return r;
}

/*
 * Every partition of @disk as <disk>p<N> (losetup -P, kpartx); a disk
 * whose table cannot be read (damaged images are mapped too) has none.
 */
static int create_partitions(const char *disk, const char *overlay)
{
	struct vd_part parts[MAX_PARTS];
	char pname[160];
	struct dm_info info;
	int fd = open_disk(disk, &info), n, i;

	if (fd < 0)
		return -1;
	n = part_list(fd, parts, MAX_PARTS);
	close(fd);
	for (i = 0; i < n; i++) {
		snprintf(pname, sizeof(pname), "%sp%u", disk, parts[i].n);
		if (linear_over(pname, info.dev, parts[i].start, parts[i].len, overlay)) {
			remove_partitions(disk, info.dev);
			return -1;
		}
	}
	return 0;
}

static int strtoul_part(const char *s, unsigned long *n)
{
	char *end;

	*n = strtoul(s, &end, 10);
	return *n && *n <= 255 && !*end ? 0 : -1;
}

/* What every image command takes: the reference policy and --format. */
static struct vd_policy policy;

/* 0 if @c was a policy option (taken), 1 if not one, -1 if bad. */
static int policy_opt(int c, struct vd_open_opts *oo)
{
	if (c == 'A')
		return policy_allow(&policy, optarg) ? -1 : 0;
	if (c != 'F')
		return 1;
	if (!vd_format_known(optarg)) {
		err_at(optarg, "unknown format (%s)",
		       "vmdk, sesparse, qcow, qcow2, vhdx, vhd, vpc, vdi, qed, parallels or raw");
		return -1;
	}
	oo->format = optarg;
	return 0;
}

/* Options of create and mount (--options is mount's alone). */
static const struct option map_opts[] = {
	{ "partition", required_argument, NULL, 'p' },
	{ "overlay", required_argument, NULL, 'O' },
	{ "ignore-parent-id", no_argument, NULL, 'i' },
	{ "snapshot", required_argument, NULL, 's' },
	{ "no-parent", no_argument, NULL, 'n' },
	{ "no-partitions", no_argument, NULL, 'P' },
	{ "allow", required_argument, NULL, 'A' },
	{ "format", required_argument, NULL, 'F' },
	{ "options", required_argument, NULL, 'o' },
	{ NULL, 0, NULL, 0 },
};

/* How to map an image: create's options, which mount takes too. */
struct map_req {
	struct vd_open_opts opts;
	const char *overlay;	/* --overlay, or NULL */
	unsigned long part;	/* --partition, or 0 */
	bool parts;		/* map every partition (not --no-partitions) */
};

/* 0 if @c was one of create's options (taken), 1 if not, 2 a usage error. */
static int map_opt(int c, struct map_req *m)
{
	int t = policy_opt(c, &m->opts);

	if (t <= 0)
		return t ? 2 : 0;
	if (c == 'n')
		m->opts.no_parent = true;
	else if (c == 'P')
		m->parts = false;
	else if (c == 'i')
		m->opts.ignore_parent_id = true;
	else if (c == 's')
		m->opts.snapshot = optarg;
	else if (c == 'O')
		m->overlay = optarg;
	else if (c != 'p')
		return 1;
	else if (strtoul_part(optarg, &m->part))
		return bad_usage("--partition needs a number from 1 to 255");
	return 0;
}

/* Map @image as @name as @m asks; nothing is left behind on failure. */
static int map_image(const char *name, const char *image, const struct map_req *m)
{
	char disk[112], base[120];
	struct dm_info info;
	struct vd_disk *d;
	int r = -1;

	/*
	 * The stack, from the top: NAME, the partition (over NAME-disk); the
	 * writable overlay (over <disk>-ro); the read-only image layers.
	 */
	snprintf(disk, sizeof(disk), m->part ? "%s-disk" : "%s", name);
	snprintf(base, sizeof(base), m->overlay ? "%s-ro" : "%s", disk);
	if (valid_name(name) || dm_open_control() < 0 || dm_info(name, &info))
		return -1;
	if (info.exists)
		return err_at(name, "a device-mapper device of that name already exists");
	d = disk_open(image, &m->opts);
	if (!d)
		return -1;
	if (need_target() == 0 && attach_all(d, base) == 0 &&
	    create_layers(base, d) == 0) {
		r = 0;
		if (m->overlay && create_overlay(disk, base, d->capacity, m->overlay)) {
			remove_tree(base);
			r = -1;
		}
		if (!r && m->part && create_partition(name, disk, (unsigned int)m->part,
						      m->overlay, image)) {
			remove_tree(disk);
			r = -1;
		}
		if (!r && !m->part && m->parts &&
		    create_partitions(disk, m->overlay)) {
			remove_tree(disk);
			r = -1;
		}
	} else {
		remove_tails(base);
	}
	/* The tables hold the loop devices now; autoclear frees them on remove. */
	disk_close(d);
	return r;
}

static int cmd_create(int argc, char **argv)
{
	struct map_req m = { .opts.pol = &policy, .parts = true };
	int c, t;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", map_opts, NULL)) != -1) {
		t = map_opt(c, &m);
		if (t)
			return t == 2 ? 2 : bad_usage("unknown create option");
	}
	if (optind != argc - 2)
		return bad_usage("create needs NAME and IMAGE");
	if (map_image(argv[optind], argv[optind + 1], &m))
		return 1;
	printf("/dev/mapper/%s\n", argv[optind]);
	return 0;
}

/* Map the line of vdisktab(5) for NAME, as its unit at boot does. */
static int cmd_attach(int argc, char **argv)
{
	struct map_req m = { .opts.pol = &policy, .parts = true };
	struct tab_entry *e;
	unsigned int i;
	int r;

	if (argc != 2)
		return bad_usage("attach needs NAME");
	e = xmalloc(sizeof(*e));
	r = tab_find(tab_path(), argv[1], e);
	for (i = 0; !r && i < e->nallow; i++)
		r = policy_allow(&policy, e->allow[i]);
	if (!r) {
		m.opts.format = e->format;
		m.opts.no_parent = e->no_parent;
		m.parts = !e->no_partitions;
		m.overlay = e->overlay;
		r = map_image(e->name, e->image, &m);
	}
	if (!r)
		printf("/dev/mapper/%s\n", e->name);
	free(e);
	return r ? 1 : 0;
}

/* Remove NAME if it is there: what stopping its unit does. */
static int cmd_detach(int argc, char **argv)
{
	struct dm_info info;

	if (argc != 2)
		return bad_usage("detach needs NAME");
	if (dm_open_control() < 0 || dm_info(argv[1], &info))
		return 1;
	return info.exists && remove_tree(argv[1]) ? 1 : 0;
}

/* The systemd generator: vdisk generate NORMAL-DIR [EARLY-DIR LATE-DIR]. */
static int cmd_generate(int argc, char **argv)
{
	if (argc != 2 && argc != 4)
		return bad_usage("generate needs the generator's folders");
	return tab_generate(tab_path(), argv[1]) ? 1 : 0;
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
	if (!made_by_vdisk(info.uuid))
		return err_at(name, "not created by vdisk (use dmsetup remove)");
	if (remove_partitions(name, info.dev))
		return -1;
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
		    made_by_vdisk(dep_uuid) &&
		    remove_tree(dep_name))
			r = -1;
	}
	return r;
}

/* The disk @name is a partition of, if vdisk made it so; else NULL. */
static char *disk_of(const char *name)
{
	struct dm_info info, dinfo;
	char *disk = xstrdup(name), *p = strrchr(disk, 'p');

	if (p && p > disk) {
		*p = 0;
		if (part_name(name, disk) && !dm_info(name, &info) && info.exists &&
		    !dm_info(disk, &dinfo) && dinfo.exists && made_by_vdisk(dinfo.uuid) &&
		    is_partition(name, &info, dinfo.dev))
			return disk;
	}
	free(disk);
	return NULL;
}

static int cmd_remove(int argc, char **argv)
{
	char *disk;

	if (argc != 2)
		return bad_usage("remove needs NAME");
	if (dm_open_control() < 0)
		return 1;
	disk = disk_of(argv[1]);
	if (disk) {
		err_at(argv[1], "a partition of %s: remove %s", disk, disk);
		free(disk);
		return 1;
	}
	return remove_tree(argv[1]) ? 1 : 0;
}

/* The file system on @dev, by its magic number; NULL if none is known. */
static const char *fs_type(const char *dev)
{
	static const struct {
		const char *name;
		unsigned int off;
		const char *magic;
		unsigned int len;
	} fs[] = {
		{ "ext4", 1080, "\x53\xef", 2 },
		{ "xfs", 0, "XFSB", 4 },
		{ "btrfs", 65600, "_BHRfS_M", 8 },
		{ "ntfs", 3, "NTFS    ", 8 },
		{ "vfat", 82, "FAT32   ", 8 },
		{ "vfat", 54, "FAT1", 4 },
		{ "iso9660", 32769, "CD001", 5 },
		{ "swap", 4086, "SWAPSPACE2", 10 },
	};
	uint8_t buf[65608];
	size_t i;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf), 0);

	if (fd >= 0)
		close(fd);
	for (i = 0; i < ARRAY_SIZE(fs); i++)
		if (n >= (ssize_t)(fs[i].off + fs[i].len) &&
		    !memcmp(buf + fs[i].off, fs[i].magic, fs[i].len))
			return fs[i].name;
	return NULL;
}

/*
 * What mount should mount of the device @name just made: partition @part,
 * or the one partition with a file system, or the disk itself.
 */
static int pick_fs(const char *name, const char *image, unsigned long part,
		   char *dev, size_t len)
{
	char **parts, node[192], list[512] = "";
	struct dm_info info;
	unsigned int i, found = 0;
	const char *t;

	if (dm_info(name, &info))
		return -1;
	parts = partitions_of(name, info.dev);
	if (part) {
		for (i = 0; parts[i]; i++)
			if (strtoul(parts[i] + strlen(name) + 1, NULL, 10) == part)
				snprintf(dev, len, "/dev/mapper/%s", parts[i]);
		if (!*dev)
			err_at(image, "has no partition %lu", part);
	} else if (!parts[0]) {
		snprintf(dev, len, "/dev/mapper/%s", name);
	}
	for (i = 0; !part && parts[i]; i++) {
		snprintf(node, sizeof(node), "/dev/mapper/%s", parts[i]);
		t = fs_type(node);
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s: %s",
			 i ? ", " : "", parts[i] + strlen(name) + 1, t ?: "unknown");
		if (t && strcmp(t, "swap") && !found++)
			snprintf(dev, len, "%s", node);
	}
	if (!part && parts[0] && found != 1) {
		*dev = 0;
		err_at(image, "%s; name one with --partition N (partitions %s)",
		       found ? "more than one partition holds a file system" :
		       "no partition holds a file system vdisk recognises", list);
	}
	free_names(parts);
	return *dev ? 0 : -1;
}

/* mount(8) @dev on @dir; 0 if it worked, else -1 with the first line it printed. */
static int run_mount(const char *opts, const char *dev, const char *dir, char *err,
		     size_t len)
{
	char *const argv[] = { "mount", "-o", (char *)opts, (char *)dev, (char *)dir, NULL };
	int p[2], status;
	ssize_t n = 0;
	pid_t pid;

	*err = 0;
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (pid > 0)
		n = read(p[0], err, len - 1);
	close(p[0]);
	err[n > 0 ? n : 0] = 0;
	err[strcspn(err, "\n")] = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/*
 * vdisk mount IMAGE DIR: map it (partitions too) under the first free name
 * vdisk-mnt<N>, mount the file system read-only (writable with an overlay),
 * and say which device it is.
 */
static int cmd_mount(int argc, char **argv)
{
	struct map_req m = { .opts.pol = &policy, .parts = true };
	char name[32], dev[192] = "", opts[512], err[256];
	const char *extra = NULL;
	unsigned long part;
	struct dm_info info;
	struct stat st;
	unsigned int i;
	int c, t;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", map_opts, NULL)) != -1) {
		if (c == 'o') {
			extra = optarg;
			continue;
		}
		t = map_opt(c, &m);
		if (t)
			return t == 2 ? 2 : bad_usage("unknown mount option");
	}
	if (optind != argc - 2)
		return bad_usage("mount needs IMAGE and DIR");
	if (stat(argv[optind + 1], &st) || !S_ISDIR(st.st_mode)) {
		err_at(argv[optind + 1], "not a folder to mount on");
		return 1;
	}
	if (dm_open_control() < 0)
		return 1;
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "vdisk-mnt%u", i);
		if (dm_info(name, &info))
			return 1;
		if (!info.exists)
			break;
	}
	/* Partitions are picked below, not by the device's name. */
	part = m.part;
	m.part = 0;
	m.parts = true;
	if (map_image(name, argv[optind], &m))
		return 1;
	if (pick_fs(name, argv[optind], part, dev, sizeof(dev))) {
		remove_tree(name);
		return 1;
	}
	snprintf(opts, sizeof(opts), "%s%s%s", m.overlay ? "rw" : "ro",
		 extra ? "," : "", extra ?: "");
	if (run_mount(opts, dev, argv[optind + 1], err, sizeof(err))) {
		remove_tree(name);
		err_at(dev, "cannot mount on %s: %s", argv[optind + 1],
		       err[0] ? err : "mount failed");
		return 1;
	}
	printf("%s\n", dev);
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape_octal(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* The device mounted on @dir (its canonical path), from mountinfo. */
static int mounted_dev(const char *dir, dev_t *dev)
{
	char line[4096], mnt[4096];
	unsigned int maj, min;
	int found = -1;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3)
			continue;
		unescape_octal(mnt);
		if (!strcmp(mnt, dir)) {
			*dev = makedev(maj, min);
			found = 0;	/* the last one is what is on top */
		}
	}
	fclose(f);
	return found;
}

/* vdisk umount DIR: unmount what vdisk mount mounted, remove what it made. */
static int cmd_umount(int argc, char **argv)
{
	char name[128], uuid[129], *real, *disk;
	dev_t dev;
	int r;

	if (argc != 2)
		return bad_usage("umount needs DIR");
	real = realpath(argv[1], NULL);
	if (!real || mounted_dev(real, &dev)) {
		free(real);
		err_at(argv[1], "nothing is mounted there");
		return 1;
	}
	if (dm_open_control() < 0 || dm_name_of(dev, name, sizeof(name), uuid, sizeof(uuid)) ||
	    !made_by_vdisk(uuid)) {
		free(real);
		err_at(argv[1], "not mounted from a device vdisk made (use umount)");
		return 1;
	}
	if (umount(real)) {
		err_at(argv[1], "cannot unmount: %s", strerror(errno));
		free(real);
		return 1;
	}
	free(real);
	disk = disk_of(name);
	r = remove_tree(disk ?: name);
	free(disk);
	return r ? 1 : 0;
}

static const char *kind_name(const struct vd_extent *e)
{
	static const char *const names[] = {
		[VD_EXT_IMAGE] = "image", [VD_EXT_FLAT] = "flat",
		[VD_EXT_ZERO] = "zero", [VD_EXT_ERROR] = "no access",
	};

	return names[e->kind];
}

/* The reference to @d's parent that opening it noted, if any. */
static const struct vd_ref *parent_ref(const struct vd_disk *d)
{
	unsigned int i;

	for (i = 0; i < policy.n_refs; i++) {
		const struct vd_ref *r = &policy.refs[i];

		if ((r->kind == VD_REF_PARENT || r->kind == VD_REF_BACKING) &&
		    !strcmp(r->image, d->path))
			return r;
	}
	return NULL;
}

/* Every file the image names, where it leads and whether it may be used. */
static void info_refs(struct kv_out *o)
{
	unsigned int i;

	kv_list_begin(o, "references");
	for (i = 0; i < policy.n_refs; i++) {
		const struct vd_ref *r = &policy.refs[i];

		kv_obj_begin(o);
		kv_str(o, "kind", ref_kind_name(r->kind));
		kv_str(o, "name", r->name);
		kv_str(o, "path", r->path);
		kv_bool(o, "found", r->found);
		kv_bool(o, "allowed", !r->refused);
		if (r->refused)
			kv_str(o, "refused", r->refused);
		kv_obj_end(o);
	}
	kv_list_end(o);
}

static void info_disk(struct vd_disk *d, struct kv_out *o)
{
	struct vd_image *im = d->ext[0].im;
	const struct vd_ref *pr = parent_ref(d);
	unsigned int i;

	kv_str(o, "file", d->path);
	kv_str(o, "format", d->format);
	if (d->subformat)
		kv_str(o, "subformat", d->subformat);
	kv_u64(o, "virtual_size", d->capacity * 512);
	if (d->n_ext == 1 && d->ext[0].kind == VD_EXT_IMAGE && im) {
		kv_u64(o, "file_size", im->size);
		im->fmt->info(im, o);
	} else {
		kv_list_begin(o, "extents");
		for (i = 0; i < d->n_ext; i++) {
			struct vd_extent *e = &d->ext[i];

			kv_obj_begin(o);
			kv_str(o, "type", kind_name(e));
			if (e->access)
				kv_str(o, "access", e->access);
			kv_u64(o, "start", e->start);
			kv_u64(o, "sectors", e->len);
			if (e->im) {
				kv_str(o, "file", e->im->path);
				if (e->kind == VD_EXT_IMAGE)
					kv_str(o, "format", e->im->fmt_name);
				else
					kv_u64(o, "offset", e->offset);
			}
			kv_obj_end(o);
		}
		kv_list_end(o);
	}
	if (d->ident.id_kind && d->ident.id[0])
		kv_str(o, "id", d->ident.id);
	if (d->ident.parent_name) {
		kv_str(o, "parent", d->ident.parent_name);
		kv_str(o, "parent_path", d->parent_path);
		kv_bool(o, "parent_found", pr && pr->found);
		if (d->ident.parent_id[0])
			kv_str(o, "parent_id", d->ident.parent_id);
		if (d->ident.parent_fmt)
			kv_str(o, "parent_format", d->ident.parent_fmt);
	}
	if (d->ident.id_kind)
		kv_str(o, "id_kind", d->ident.id_kind);
	info_refs(o);
}

/*
 * A device vdisk created: its overlay's use from dm-snapshot's status, or
 * the counters and memory of its (first) vdisk target.
 */
static int info_device(const char *name, bool json)
{
	static const char *const counters[] = {
		"cache_hits", "cache_misses", "deferred_bios", "errors", "memory_bytes",
	};
	unsigned long long used, total, meta, n[5];
	char type[32], status[256], fmt[16];
	unsigned int i;
	struct dm_info info;
	struct kv_out o;

	if (dm_open_control() < 0 || dm_info(name, &info))
		return 1;
	if (!info.exists || !made_by_vdisk(info.uuid))
		return err_at(name, "no such file, nor a device vdisk created");
	if (dm_status(name, type, sizeof(type), status, sizeof(status)))
		return err_at(name, "cannot read its status: %s", strerror(errno));
	kv_begin(&o, stdout, json);
	kv_str(&o, "device", name);
	kv_bool(&o, "overlay", !strcmp(type, "snapshot"));
	if (!strcmp(type, "snapshot")) {
		if (sscanf(status, "%llu/%llu %llu", &used, &total, &meta) == 3) {
			kv_u64(&o, "overlay_used_bytes", used * 512);
			kv_u64(&o, "overlay_size_bytes", total * 512);
			kv_u64(&o, "overlay_metadata_bytes", meta * 512);
		} else {
			kv_str(&o, "overlay_state", status);	/* Invalid, Overflow */
		}
	} else if (!strcmp(type, "vdisk") &&
		   sscanf(status, "%15s %llu %llu %llu %llu %llu", fmt, &n[0], &n[1],
			  &n[2], &n[3], &n[4]) == 6) {
		kv_str(&o, "format", fmt);
		for (i = 0; i < 5; i++)
			kv_u64(&o, counters[i], n[i]);
	}
	kv_end(&o);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "allow", required_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct vd_open_opts oo = { .no_parents = true, .pol = &policy };
	struct vd_disk *d;
	struct kv_out o;
	bool json = false;
	int c, t;

	/* List what the image names, refused or missing, without failing. */
	policy.lenient = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		t = policy_opt(c, &oo);
		if (t < 0)
			return 2;
		if (!t)
			continue;
		if (c != 'j')
			return bad_usage("unknown info option");
		json = true;
	}
	if (optind != argc - 1)
		return bad_usage("info needs IMAGE");
	if (access(argv[optind], F_OK) && !strchr(argv[optind], '/'))
		return info_device(argv[optind], json);
	d = disk_open(argv[optind], &oo);
	if (!d)
		return 1;
	kv_begin(&o, stdout, json);
	info_disk(d, &o);
	kv_end(&o);
	disk_close(d);
	return 0;
}

/* A line of /sys/dev/block/M:m/@what, without its newline. */
static int sysfs_line(dev_t dev, const char *what, char *buf, size_t len)
{
	char path[128];
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(dev), minor(dev), what);
	f = fopen(path, "r");
	if (f && fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = 0;
		r = 0;
	}
	if (f)
		fclose(f);
	return r;
}

static uint64_t dev_bytes(dev_t dev)
{
	char buf[32];

	return sysfs_line(dev, "size", buf, sizeof(buf)) ? 0 : strtoull(buf, NULL, 10) * 512;
}

/*
 * The image files under the device @name, top layer first (the files its
 * loop devices hold, then the layers below), and the format of the first
 * vdisk target met.
 */
static void list_images(const char *name, struct kv_out *o, char fmt[16], int depth)
{
	char dname[128], duuid[129], buf[4096], type[32], status[256];
	dev_t deps[MAX_DEPS];
	int n = dm_deps(name, deps, MAX_DEPS), i, pass;
	bool store;

	type[0] = 0;
	dm_status(name, type, sizeof(type), status, sizeof(status));
	if (!*fmt && !strcmp(type, "vdisk"))
		sscanf(status, "%15s", fmt);
	/* An overlay's loop device holds its store, not an image. */
	store = !strcmp(type, "snapshot");
	/* Files first, then the layers below, so the chain reads top down. */
	for (pass = 0; pass < 2 && depth < VD_MAX_CHAIN + 4; pass++) {
		for (i = 0; i < n; i++) {
			if (loop_is(deps[i])) {
				if (!pass && !store &&
				    !sysfs_line(deps[i], "loop/backing_file", buf, sizeof(buf)))
					kv_str(o, NULL, buf);
			} else if (pass && !dm_name_of(deps[i], dname, sizeof(dname), duuid,
							sizeof(duuid)) && made_by_vdisk(duuid)) {
				list_images(dname, o, fmt, depth + 1);
			}
		}
	}
}

/* A device vdisk made that no other (but its partitions) is built on. */
static bool is_top(const char *name, char **names, unsigned int n)
{
	struct dm_info info, other;
	dev_t deps[MAX_DEPS];
	unsigned int i;
	char *disk;
	int k, j;

	if (dm_info(name, &info) || !info.exists || !made_by_vdisk(info.uuid))
		return false;
	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], name) || dm_info(names[i], &other) || !other.exists ||
		    !made_by_vdisk(other.uuid) || part_name(names[i], name))
			continue;
		k = dm_deps(names[i], deps, MAX_DEPS);
		for (j = 0; j < k; j++)
			if (deps[j] == info.dev)
				return false;
	}
	disk = disk_of(name);
	free(disk);
	return !disk;
}

static int cmd_list(int argc, char **argv)
{
	char type[32], status[256], fmt[16], **parts;
	unsigned long long used, total, meta;
	unsigned int n, i, j;
	struct dm_info info;
	struct kv_out o;
	char **names;

	if (argc == 2 && !strcmp(argv[1], "--json"))
		kv_begin(&o, stdout, true);
	else if (argc == 1)
		kv_begin(&o, stdout, false);
	else
		return bad_usage("list takes only --json");
	if (dm_open_control() < 0)
		return 1;
	names = dm_list(&n);
	if (!names)
		return err_at("device-mapper", "cannot list devices: %s", strerror(errno));
	kv_list_begin(&o, "devices");
	for (i = 0; i < n; i++) {
		if (!is_top(names[i], names, n) || dm_info(names[i], &info))
			continue;
		kv_obj_begin(&o);
		kv_str(&o, "name", names[i]);
		kv_u64(&o, "size_bytes", dev_bytes(info.dev));
		fmt[0] = 0;
		kv_list_begin(&o, "images");
		list_images(names[i], &o, fmt, 0);
		kv_list_end(&o);
		kv_str(&o, "format", fmt[0] ? fmt : "unknown");
		type[0] = 0;
		dm_status(names[i], type, sizeof(type), status, sizeof(status));
		kv_bool(&o, "overlay", !strcmp(type, "snapshot"));
		if (!strcmp(type, "snapshot") &&
		    sscanf(status, "%llu/%llu %llu", &used, &total, &meta) == 3) {
			kv_u64(&o, "overlay_used_bytes", used * 512);
			kv_u64(&o, "overlay_size_bytes", total * 512);
		}
		kv_list_begin(&o, "partitions");
		parts = partitions_of(names[i], info.dev);
		for (j = 0; parts[j]; j++)
			kv_str(&o, NULL, parts[j]);
		free_names(parts);
		kv_list_end(&o);
		kv_obj_end(&o);
	}
	kv_list_end(&o);
	kv_end(&o);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

static int cmd_table(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allow", required_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct vd_open_opts oo = { .no_parents = true, .pol = &policy };
	struct vd_disk *d;
	struct vd_image *im;
	int r = 1, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (policy_opt(c, &oo))
			return bad_usage("unknown table option");
	if (optind != argc - 1)
		return bad_usage("table needs DEVICE");
	argv += optind - 1;
	d = disk_open(argv[1], &oo);
	if (!d)
		return 1;
	im = d->ext[0].im;
	if (d->n_ext != 1 || d->ext[0].kind != VD_EXT_IMAGE || !im->is_blk)
		err_at(argv[1], "not a block device holding an image (use vdisk create)");
	else if (d->ident.parent_name || im->data_im)
		err_at(argv[1], "image needs other files (%s): use vdisk create",
		       d->ident.parent_name ?: im->data_im->path);
	else
		r = printf("0 %llu vdisk %u:%u %s\n", (unsigned long long)d->capacity,
			   major(im->dev), minor(im->dev), im->fmt_name) < 0;
	disk_close(d);
	return r;
}

/* Write what the image needs replayed (a VHDX log) to its files. */
static int repair(const char *path, const struct vd_open_opts *oo)
{
	struct vd_disk *d = disk_open(path, oo);
	unsigned int i;
	int r = 0;

	if (!d)
		return 1;
	for (i = 0; i < d->n_ext && !r; i++)
		if (d->ext[i].kind == VD_EXT_IMAGE && d->ext[i].im->fmt->repair)
			r = d->ext[i].im->fmt->repair(d->ext[i].im);
	disk_close(d);
	return r ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "allow", required_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct vd_open_opts oo = { .no_parents = true, .pol = &policy };
	struct vd_check c = { 0 };
	const struct vd_ref *pr;
	struct vd_disk *d;
	unsigned int i;
	bool fix = false;
	int opt, t;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		t = policy_opt(opt, &oo);
		if (t < 0)
			return 2;
		if (!t)
			continue;
		if (opt != 'r')
			return bad_usage("unknown check option");
		fix = true;
	}
	if (optind != argc - 1)
		return bad_usage("check needs IMAGE");
	argv += optind - 1;
	if (fix && repair(argv[1], &oo))
		return 1;
	d = disk_open(argv[1], &oo);
	if (!d)
		return 1;
	for (i = 0; i < d->n_ext; i++) {
		struct vd_image *im = d->ext[i].im;

		if (d->ext[i].kind != VD_EXT_IMAGE)
			continue;
		c.path = im->path;
		im->fmt->check(im, &c);
	}
	c.path = d->path;
	pr = parent_ref(d);
	if (pr && !pr->found && !pr->refused)
		check_error(&c, "parent not found: %s", pr->path);
	else if (pr && pr->refused)
		check_warn(&c, "%s \"%s\" %s", ref_kind_name(pr->kind), pr->name,
			   pr->refused);
	printf("%s: %s, %llu bytes virtual, %llu/%llu allocated (%.2f%%), %llu zero\n",
	       argv[1], d->format, (unsigned long long)d->capacity * 512,
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
	disk_close(d);
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
		{ "list", cmd_list },
		{ "mount", cmd_mount },
		{ "umount", cmd_umount },
		{ "attach", cmd_attach },
		{ "detach", cmd_detach },
		{ "generate", cmd_generate },
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
