// SPDX-License-Identifier: GPL-2.0
/*
 * Device-mapper through its ioctls: no libdevmapper, so the helper works
 * statically linked in an initramfs (Debian ships no static libdevmapper)
 * and without udev.  Where udev runs, it is told of, and waited for on,
 * every event the way libdevmapper does it, so dmsetup's udev rules treat
 * our devices as their own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "dm.h"
#include "util.h"

#define DM_CONTROL	"/dev/mapper/control"
#define DM_BUF_SIZE	(16 * 1024)

static int control_fd = -1;

static int make_control_node(void)
{
	unsigned int maj, min;
	FILE *f;
	int n;

	f = fopen("/sys/class/misc/device-mapper/dev", "r");
	if (!f)
		return -1;
	n = fscanf(f, "%u:%u", &maj, &min);
	fclose(f);
	if (n != 2)
		return -1;
	mkdir("/dev/mapper", 0755);
	if (mknod(DM_CONTROL, S_IFCHR | 0600, makedev(maj, min)) && errno != EEXIST)
		return -1;
	return 0;
}

int dm_open_control(void)
{
	if (control_fd >= 0)
		return control_fd;
	control_fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (control_fd < 0) {
		/* dm-mod may not be loaded, or no udev made the node. */
		run_quiet("modprobe", "dm-mod", NULL);
		if (make_control_node() == 0)
			control_fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	}
	if (control_fd < 0)
		return err_at(DM_CONTROL, "%s (is device-mapper available?)",
			      strerror(errno));
	return control_fd;
}

static struct dm_ioctl *dm_buf(const char *name, size_t size)
{
	struct dm_ioctl *io = xcalloc(1, size);

	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	if (name)
		snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

/* Issue @cmd, growing the buffer while the kernel says it is too small. */
static int dm_call(unsigned long cmd, struct dm_ioctl **iop)
{
	int fd = dm_open_control();

	if (fd < 0)
		return -1;
	for (;;) {
		struct dm_ioctl *io = *iop, *bigger;

		if (ioctl(fd, cmd, io) < 0)
			return -1;
		if (!(io->flags & DM_BUFFER_FULL_FLAG))
			return 0;
		if (io->data_size > 16U << 20) {
			errno = E2BIG;
			return -1;
		}
		bigger = xcalloc(1, io->data_size * 2);
		memcpy(bigger, io, sizeof(*io));
		bigger->data_size = io->data_size * 2;
		bigger->flags &= ~DM_BUFFER_FULL_FLAG;
		free(io);
		*iop = bigger;
	}
}

/*
 * The udev cookie: DM_COOKIE in the uevent is event_nr.  Its upper 16 bits
 * are flags for dmsetup's rules; its lower 16 bits, with COOKIE_MAGIC above
 * them, are the key of a System V semaphore that 95-dm-notify.rules
 * decrements (dmsetup udevcomplete) once udev has handled the event.
 */
#define COOKIE_MAGIC		0x0D4Du
#define UDEV_PRIMARY_SOURCE	0x0040u	/* an event we caused, not a rescan */
#define UDEV_WAIT_SECONDS	30

struct cookie {
	int semid;	/* -1: nothing to wait for */
};

static bool exists_in(const char * const *dirs, const char *name)
{
	char path[PATH_MAX];

	for (; *dirs; dirs++) {
		snprintf(path, sizeof(path), "%s/%s", *dirs, name);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

static bool udev_running(void)
{
	return access("/run/udev/control", F_OK) == 0;
}

/* udev runs, and the rules that complete a cookie are there to run. */
static bool udev_completes(void)
{
	static const char * const rules[] = { "/etc/udev/rules.d", "/run/udev/rules.d",
		"/usr/lib/udev/rules.d", "/lib/udev/rules.d", NULL };
	static const char * const sbin[] = { "/sbin", "/usr/sbin", NULL };

	return exists_in(rules, "95-dm-notify.rules") && exists_in(sbin, "dmsetup");
}

/* Before an ioctl that makes a uevent: flags, and a semaphore to wait on. */
static void cookie_begin(struct cookie *c, struct dm_ioctl *io)
{
	uint16_t base = 0;
	bool wait;
	int tries;

	c->semid = -1;
	if (!udev_running())
		return;		/* no udev: we make the nodes */
	wait = udev_completes();
	for (tries = 0; wait && tries < 16; tries++) {
		if (getrandom(&base, sizeof(base), 0) != sizeof(base) || !base)
			continue;
		c->semid = semget((key_t)(COOKIE_MAGIC << 16 | base), 1,
				  0600 | IPC_CREAT | IPC_EXCL);
		if (c->semid >= 0 || errno != EEXIST)
			break;
	}
	/* Ours and the event's: udev takes one, we take the other. */
	if (c->semid >= 0 && semctl(c->semid, 0, SETVAL, 2) < 0) {
		semctl(c->semid, 0, IPC_RMID);
		c->semid = -1;
	}
	if (c->semid < 0)
		base = 0;	/* flags alone: the rules then complete nothing */
	io->event_nr = UDEV_PRIMARY_SOURCE << 16 | base;
}

/* After it: if the event was sent, wait until udev has handled it. */
static void cookie_end(struct cookie *c, bool sent, const char *name)
{
	struct timespec ts = { UDEV_WAIT_SECONDS, 0 };
	struct sembuf ours = { 0, -1, IPC_NOWAIT }, zero = { 0, 0, 0 };

	if (c->semid < 0)
		return;
	if (sent && semop(c->semid, &ours, 1) == 0)
		while (semtimedop(c->semid, &zero, 1, &ts) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				err_at(name, "udev did not handle the device in %d s",
				       UDEV_WAIT_SECONDS);
			break;
		}
	semctl(c->semid, 0, IPC_RMID);
	c->semid = -1;
}

int dm_target_present(const char *type)
{
	struct dm_ioctl *io = dm_buf(NULL, DM_BUF_SIZE);
	struct dm_target_versions *v;
	int found = 0;

	if (dm_call(DM_LIST_VERSIONS, &io) == 0) {
		v = (void *)((char *)io + io->data_start);
		for (;;) {
			if (!strcmp(v->name, type)) {
				found = 1;
				break;
			}
			if (!v->next)
				break;
			v = (void *)((char *)v + v->next);
		}
	}
	free(io);
	return found;
}

int dm_info(const char *name, struct dm_info *info)
{
	struct dm_ioctl *io = dm_buf(name, sizeof(struct dm_ioctl));
	int r = 0;

	memset(info, 0, sizeof(*info));
	if (dm_call(DM_DEV_STATUS, &io) == 0) {
		info->exists = true;
		info->dev = (dev_t)io->dev;
		info->open_count = io->open_count;
		snprintf(info->uuid, sizeof(info->uuid), "%s", io->uuid);
	} else if (errno != ENXIO) {
		r = err_at(name, "cannot query device-mapper: %s", strerror(errno));
	}
	free(io);
	return r;
}

static int dm_load(const char *name, const struct dm_seg *segs,
		   unsigned int nsegs, bool rw)
{
	size_t size = sizeof(struct dm_ioctl), off;
	struct dm_ioctl *io;
	unsigned int i;
	int r;

	for (i = 0; i < nsegs; i++)
		size += sizeof(struct dm_target_spec) +
			((strlen(segs[i].params) + 1 + 7) & ~(size_t)7);
	io = dm_buf(name, size);
	io->flags = rw ? 0 : DM_READONLY_FLAG;
	io->target_count = nsegs;
	off = sizeof(*io);
	for (i = 0; i < nsegs; i++) {
		struct dm_target_spec *t = (void *)((char *)io + off);
		size_t plen = (strlen(segs[i].params) + 1 + 7) & ~(size_t)7;

		t->sector_start = segs[i].start;
		t->length = segs[i].len;
		snprintf(t->target_type, sizeof(t->target_type), "%s", segs[i].type);
		strcpy((char *)(t + 1), segs[i].params);
		t->next = (uint32_t)(sizeof(*t) + plen);
		off += t->next;
	}
	r = dm_call(DM_TABLE_LOAD, &io);
	free(io);
	return r;
}

int dm_create(const char *name, const char *uuid, const struct dm_seg *segs,
	      unsigned int nsegs, dev_t *dev, bool rw)
{
	struct dm_ioctl *io = dm_buf(name, sizeof(struct dm_ioctl));
	struct cookie c;
	int saved, r;

	snprintf(io->uuid, sizeof(io->uuid), "%s", uuid);
	if (dm_call(DM_DEV_CREATE, &io)) {
		saved = errno;
		free(io);
		if (saved == EBUSY)
			return err_at(name, "a device-mapper device of that name or uuid exists");
		return err_at(name, "cannot create device-mapper device: %s",
			      strerror(saved));
	}
	*dev = (dev_t)io->dev;
	free(io);

	if (dm_load(name, segs, nsegs, rw)) {
		saved = errno;
		dm_remove(name);
		return err_at(name, "device-mapper refused the table: %s (see dmesg)",
			      strerror(saved));
	}

	io = dm_buf(name, sizeof(struct dm_ioctl));
	cookie_begin(&c, io);
	r = dm_call(DM_DEV_SUSPEND, &io);	/* no SUSPEND flag: resume */
	saved = errno;
	cookie_end(&c, r == 0, name);
	free(io);
	if (r) {
		dm_remove(name);
		return err_at(name, "cannot activate device: %s", strerror(saved));
	}
	return 0;
}

int dm_status(const char *name, char *type, size_t tlen, char *buf, size_t len)
{
	struct dm_ioctl *io = dm_buf(name, DM_BUF_SIZE);
	struct dm_target_spec *t;
	int r = -1;

	*buf = *type = 0;
	if (dm_call(DM_TABLE_STATUS, &io) == 0) {
		r = 0;
		if (io->target_count) {
			t = (void *)((char *)io + io->data_start);
			snprintf(type, tlen, "%.*s", (int)sizeof(t->target_type),
				 t->target_type);
			snprintf(buf, len, "%s", (char *)(t + 1));
		}
	}
	free(io);
	return r;
}

int dm_remove(const char *name)
{
	struct dm_ioctl *io;
	struct cookie c;
	int tries, saved, r = -1;

	/* Something (udev's blkid, a reader) may hold it for a moment. */
	for (tries = 0; tries < 50; tries++) {
		io = dm_buf(name, sizeof(struct dm_ioctl));
		cookie_begin(&c, io);
		r = dm_call(DM_DEV_REMOVE, &io);
		saved = errno;
		cookie_end(&c, r == 0, name);
		errno = saved;
		free(io);
		if (r == 0 || errno != EBUSY)
			break;
		usleep(100000);
	}
	return r;
}

int dm_deps(const char *name, dev_t *deps, int max)
{
	struct dm_ioctl *io = dm_buf(name, DM_BUF_SIZE);
	struct dm_target_deps *d;
	int i, n = -1;

	if (dm_call(DM_TABLE_DEPS, &io) == 0) {
		d = (void *)((char *)io + io->data_start);
		n = (int)d->count < max ? (int)d->count : max;
		for (i = 0; i < n; i++)
			deps[i] = (dev_t)d->dev[i];
	}
	free(io);
	return n;
}

char **dm_list(unsigned int *n)
{
	struct dm_ioctl *io = dm_buf(NULL, DM_BUF_SIZE);
	struct dm_name_list *nl;
	char **names = NULL;

	*n = 0;
	if (dm_call(DM_LIST_DEVICES, &io)) {
		free(io);
		return NULL;
	}
	nl = (void *)((char *)io + io->data_start);
	while (nl->dev) {
		names = xrealloc(names, *n + 1, sizeof(*names));
		names[(*n)++] = xstrdup(nl->name);
		if (!nl->next)
			break;
		nl = (void *)((char *)nl + nl->next);
	}
	free(io);
	return names ?: xcalloc(1, sizeof(*names));
}

int dm_name_of(dev_t dev, char *name, size_t len, char *uuid, size_t ulen)
{
	struct dm_ioctl *io = dm_buf(NULL, sizeof(struct dm_ioctl));
	int r = -1;

	io->dev = dev;
	if (dm_call(DM_DEV_STATUS, &io) == 0) {
		snprintf(name, len, "%s", io->name);
		snprintf(uuid, ulen, "%s", io->uuid);
		r = 0;
	}
	free(io);
	return r;
}

static bool node_is(const char *path, dev_t dev)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev;
}

int dm_make_node(const char *name, dev_t dev)
{
	char path[PATH_MAX];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	snprintf(path, sizeof(path), "/dev/mapper/%s", name);
	/* Where udev runs it makes the node; give it a moment. */
	if (udev_running())
		for (i = 0; i < 250 && !node_is(path, dev); i++)
			nanosleep(&ts, NULL);
	if (node_is(path, dev))
		return 0;
	unlink(path);
	if (mknod(path, S_IFBLK | 0600, dev))
		return err_at(path, "cannot create device node: %s", strerror(errno));
	return 0;
}

void dm_remove_node(const char *name, dev_t dev)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/mapper/%s", name);
	/* Only our own node: udev removes its symlinks itself. */
	if (lstat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == dev)
		unlink(path);
}
