// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "loop.h"
#include "util.h"

#define LOOP_MAJOR 7

static int open_node(const char *path, int flags, mode_t type, dev_t dev)
{
	int fd = open(path, flags | O_CLOEXEC);

	/* No devtmpfs node yet (or no udev): make it. */
	if (fd < 0 && errno == ENOENT && mknod(path, type | 0600, dev) == 0)
		fd = open(path, flags | O_CLOEXEC);
	return fd;
}

static int loop_control(void)
{
	int fd = open_node("/dev/loop-control", O_RDWR, S_IFCHR, makedev(10, 237));

	if (fd < 0) {
		run_quiet("modprobe", "loop", NULL);
		fd = open_node("/dev/loop-control", O_RDWR, S_IFCHR,
			       makedev(10, 237));
	}
	return fd;
}

static int attach(int fd, const char *path, dev_t *dev, bool rw)
{
	struct loop_config cfg;
	char node[64];
	int ctl, lfd, n, tries;

	ctl = loop_control();
	if (ctl < 0)
		return err_at("/dev/loop-control", "%s", strerror(errno));

	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (uint32_t)fd;
	cfg.info.lo_flags = (rw ? 0 : LO_FLAGS_READ_ONLY) | LO_FLAGS_AUTOCLEAR |
			    LO_FLAGS_DIRECT_IO;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name),
		 "%s", path);

	/* Another process may take the free device first: try again. */
	for (tries = 0; tries < 16; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(node, sizeof(node), "/dev/loop%d", n);
		lfd = open_node(node, rw ? O_RDWR : O_RDONLY, S_IFBLK,
				makedev(LOOP_MAJOR, n));
		if (lfd < 0)
			break;
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			struct stat st;

			close(ctl);
			fstat(lfd, &st);
			*dev = st.st_rdev;
			dbg("attached %s to %s", path, node);
			return lfd;
		}
		n = errno;
		close(lfd);
		if (n != EBUSY) {
			errno = n;
			break;
		}
	}
	n = errno;
	close(ctl);
	return err_at(path, "cannot attach a loop device: %s", strerror(n));
}

int loop_attach(int fd, const char *path, dev_t *dev)
{
	return attach(fd, path, dev, false);
}

int loop_attach_rw(int fd, const char *path, dev_t *dev)
{
	return attach(fd, path, dev, true);
}

int loop_is(dev_t dev)
{
	return major(dev) == LOOP_MAJOR;
}

/*
 * Detach a loop device that vdisk attached, if autoclear has not done so
 * already.  Ours are the ones with autoclear set: a loop device the user
 * attached for "vdisk table" stays.
 */
int loop_detach(dev_t dev)
{
	struct loop_info64 info;
	char node[PATH_MAX];
	int fd, r = 0;

	if (blkdev_node(dev, node, sizeof(node)))
		return 0;
	fd = open(node, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (ioctl(fd, LOOP_GET_STATUS64, &info) == 0 &&
	    (info.lo_flags & LO_FLAGS_AUTOCLEAR) &&
	    ioctl(fd, LOOP_CLR_FD, 0) && errno != ENXIO)
		r = -1;
	close(fd);
	return r;
}
