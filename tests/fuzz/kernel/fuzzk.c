// SPDX-License-Identifier: GPL-2.0
/*
 * fuzzk: fuzz dm-vdisk's kernel path from inside the (debug) test guest.
 *
 * Seeds (tests/lib/fuzzseeds.py, SEEDDIR/seeds.txt) give per image the
 * metadata byte ranges to mutate and a table line template.  Each iteration
 * mutates those ranges, attaches the image to a read-only loop device,
 * loads the table with the device-mapper ioctls (not through the vdisk
 * helper), reads the device with O_DIRECT, suspends, reloads, resumes and
 * removes it, in a child process with a time limit, then looks for a
 * checker's report in /dev/kmsg.  A report, a crash of the child or a hang
 * is a finding: the input is saved to OUTDIR/FMT/CASE/.
 *
 *   fuzzk fuzz SEEDDIR OUTDIR [-s SEED] [-f FMT,...] [-t SECONDS] [-n ITERS]
 *              [-k MAX_FINDINGS] [-i FIRST_ITER]
 *   fuzzk replay CASEDIR...          each once; fails on a report or hang
 *   fuzzk failnth SEEDDIR SEED...    failslab/fail_page_alloc on table load
 *   fuzzk failio SEEDDIR SEED...     fail_make_request and dm-flakey reads
 *
 * Output: "fuzzk: ..." lines, and one "result: PASS|FAIL what" line per
 * check (the guest script turns them into TAP).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef unsigned long long u64;
typedef unsigned int u32;
#define U64F	"llu"
#define X64F	"llx"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define BIT(n)		(1U << (n))
#define MAX_SEEDS	64
#define MAX_RANGES	256
#define MAX_CRCS	8
#define DM_BUF		16384
#define IO_BUF		BIT(20)
#define READ_CAP	(8 << 20)
#define WORK		"/tmp/fzk"
#define DMNAME		"fzk"
#define DMPARENT	"fzk-p"
#define DMFLAKEY	"fzk-f"

struct range {
	u64 off, len;
	char label[32];
};

struct crc {
	u64 off, len, field;
	bool sum;	/* VHD's: ~(byte sum), big-endian; else CRC-32C */
};

struct seed {
	char name[64], fmt[32], image[256], parent[64], table[512];
	u64 sectors, unit;
	struct range r[MAX_RANGES];
	int nr;
	struct crc c[MAX_CRCS];
	int nc;
	/* Loaded on first use: the image, mutated in place and restored. */
	unsigned char *buf;
	u64 size;
	char work[300];
};

static struct seed seeds[MAX_SEEDS];
static int nseeds;
static const char *seeddir;
static int timeout_s = 120;

struct stats {
	unsigned long iters, loads, loaded, reads, eio, other, findings;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzzk: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static void verdict(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("result: %s ", ok ? "PASS" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

/* splitmix64: small, and the same sequence everywhere for a seed. */
static u64 rng_state;

static u64 rnd(void)
{
	u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u64 below(u64 n)
{
	return n ? rnd() % n : 0;
}

static u32 crc32c(const unsigned char *p, size_t n)
{
	u32 c = ~0U;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78U & -(c & 1));
	}
	return ~c;
}

/* ---- files ---- */

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t w = -1;

	if (fd >= 0) {
		w = write(fd, p, n);
		close(fd);
	}
	return w == (ssize_t)n ? 0 : -1;
}

static char *read_text(const char *path)
{
	static char text[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	text[n] = 0;
	while (n && isspace((unsigned char)text[n - 1]))
		text[--n] = 0;
	return text;
}

static int put_sys(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t n = -1;

	if (fd >= 0) {
		n = write(fd, val, strlen(val));
		close(fd);
	}
	if (n < 0)
		fprintf(stderr, "fuzzk: cannot write %s to %s: %s\n", val, path,
			strerror(errno));
	return n < 0 ? -1 : 0;
}

static unsigned char *slurp(const char *path, u64 *size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	unsigned char *p;
	u64 got = 0;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st))
		die("cannot open %s: %s", path, strerror(errno));
	p = malloc(st.st_size ? st.st_size : 1);
	if (!p)
		die("out of memory for %s", path);
	while (got < (u64)st.st_size) {
		n = read(fd, p + got, st.st_size - got);
		if (n <= 0)
			die("cannot read %s", path);
		got += n;
	}
	close(fd);
	*size = got;
	return p;
}

/* ---- seeds ---- */

static void load_seeds(const char *dir)
{
	char path[512], line[1024];
	struct seed *s = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/seeds.txt", dir);
	f = fopen(path, "r");
	if (!f)
		die("cannot open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "seed ", 5)) {
			if (nseeds == MAX_SEEDS)
				die("too many seeds");
			s = &seeds[nseeds++];
			snprintf(s->name, sizeof(s->name), "%s", line + 5);
		} else if (!s) {
			continue;
		} else if (!strncmp(line, "fmt ", 4)) {
			snprintf(s->fmt, sizeof(s->fmt), "%s", line + 4);
		} else if (!strncmp(line, "image ", 6)) {
			snprintf(s->image, sizeof(s->image), "%s/%s", dir, line + 6);
		} else if (!strncmp(line, "parent ", 7)) {
			snprintf(s->parent, sizeof(s->parent), "%s", line + 7);
		} else if (!strncmp(line, "table ", 6)) {
			snprintf(s->table, sizeof(s->table), "%s", line + 6);
		} else if (!strncmp(line, "sectors ", 8)) {
			s->sectors = strtoull(line + 8, NULL, 0);
		} else if (!strncmp(line, "unit ", 5)) {
			s->unit = strtoull(line + 5, NULL, 0);
		} else if (!strncmp(line, "range ", 6) && s->nr < MAX_RANGES) {
			struct range *r = &s->r[s->nr];

			if (sscanf(line + 6, "%" U64F " %" U64F " %31s",
				   &r->off, &r->len, r->label) >= 2 && r->len)
				s->nr++;
		} else if ((!strncmp(line, "crc ", 4) || !strncmp(line, "sum ", 4)) &&
			   s->nc < MAX_CRCS) {
			struct crc *c = &s->c[s->nc];

			c->sum = line[0] == 's';
			if (sscanf(line + 4, "%" U64F " %" U64F " %" U64F,
				   &c->off, &c->len, &c->field) == 3)
				s->nc++;
		}
	}
	fclose(f);
}

static struct seed *find_seed(const char *name)
{
	int i;

	for (i = 0; i < nseeds; i++)
		if (!strcmp(seeds[i].name, name))
			return &seeds[i];
	return NULL;
}

/* ---- loop devices ---- */

static int loop_attach(const char *file, dev_t *dev)
{
	struct loop_config cfg;
	char path[64];
	struct stat st;
	int ctl, fd, lfd, n, tries;

	fd = open(file, O_RDONLY);
	if (fd < 0)
		return -1;
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl < 0) {
		close(fd);
		return -1;
	}
	for (tries = 0; tries < 20; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		snprintf(path, sizeof(path), "/dev/loop%d", n);
		lfd = open(path, O_RDONLY);
		if (lfd < 0) {
			mknod(path, S_IFBLK | 0600, makedev(7, n));
			lfd = open(path, O_RDONLY);
		}
		if (lfd < 0)
			break;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = fd;
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY;
		snprintf((char *)cfg.info.lo_file_name, LO_NAME_SIZE, "%s", file);
		if (!ioctl(lfd, LOOP_CONFIGURE, &cfg)) {
			fstat(lfd, &st);
			*dev = st.st_rdev;
			close(fd);
			close(ctl);
			return lfd;
		}
		close(lfd);
		if (errno != EBUSY)
			break;
	}
	close(fd);
	close(ctl);
	return -1;
}

static void loop_detach(int lfd)
{
	if (lfd >= 0) {
		ioctl(lfd, LOOP_CLR_FD, 0);
		close(lfd);
	}
}

/* Detach every loop device over a file under WORK (a killed child's). */
static void loop_sweep(void)
{
	char path[300], *back;
	struct dirent *d;
	DIR *dir = opendir("/sys/block");
	int fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (strncmp(d->d_name, "loop", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 d->d_name);
		back = read_text(path);
		if (!back || strncmp(back, WORK, strlen(WORK)))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", d->d_name);
		fd = open(path, O_RDONLY);
		loop_detach(fd);
	}
	closedir(dir);
}

/* ---- device-mapper ioctls ---- */

static int dm_ctl = -1;

static struct dm_ioctl *dm_init(void *buf, const char *name, u32 flags)
{
	struct dm_ioctl *io = buf;

	memset(buf, 0, DM_BUF);
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = DM_BUF;
	io->data_start = sizeof(*io);
	io->flags = flags;
	if (name)
		snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

static int dm_cmd(unsigned long cmd, const char *name, u32 flags,
		  dev_t *dev)
{
	static u64 buf[DM_BUF / 8];
	struct dm_ioctl *io = dm_init(buf, name, flags);
	int r = ioctl(dm_ctl, cmd, io);

	if (!r && dev)
		*dev = (dev_t)io->dev;
	return r;
}

/* Load "START LEN TYPE PARAMS" as NAME's inactive table (read-only). */
static int dm_load(const char *name, const char *line)
{
	static u64 buf[DM_BUF / 8];
	struct dm_ioctl *io = dm_init(buf, name, DM_READONLY_FLAG);
	struct dm_target_spec *t = (void *)(io + 1);
	char type[DM_MAX_TYPE_NAME];
	unsigned long long start, len;
	int pos = 0;

	if (sscanf(line, "%llu %llu %15s %n", &start, &len, type, &pos) < 3 || !pos) {
		errno = EINVAL;
		return -1;
	}
	io->target_count = 1;
	t->sector_start = start;
	t->length = len;
	snprintf(t->target_type, sizeof(t->target_type), "%s", type);
	snprintf((char *)(t + 1), DM_BUF - sizeof(*io) - sizeof(*t) - 8, "%s",
		 line + pos);
	t->next = 0;
	return ioctl(dm_ctl, DM_TABLE_LOAD, io);
}

/* An inactive table left behind (after a failed load): its target count. */
static int dm_inactive_targets(const char *name)
{
	static u64 buf[DM_BUF / 8];
	struct dm_ioctl *io = dm_init(buf, name, DM_QUERY_INACTIVE_TABLE_FLAG);

	if (ioctl(dm_ctl, DM_TABLE_STATUS, io))
		return -1;
	return io->flags & DM_INACTIVE_PRESENT_FLAG ? (int)io->target_count : 0;
}

static void dm_remove(const char *name)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (!dm_cmd(DM_DEV_REMOVE, name, 0, NULL) || errno == ENXIO)
			return;
		usleep(100000);
	}
	fprintf(stderr, "fuzzk: cannot remove %s: %s\n", name, strerror(errno));
}

static void dm_cleanup(void)
{
	dm_remove(DMNAME);
	dm_remove(DMFLAKEY);
	dm_remove(DMPARENT);
}

/* A node for a dm device, to open it. */
static int dm_open(dev_t dev, const char *node)
{
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, dev))
		return -1;
	return open(node, O_RDONLY | O_DIRECT);
}

/* The table line of a template; keep: only @SECTORS@ (to save it). */
static void expand_ex(char *out, size_t n, const char *tpl, u64 sectors,
		      dev_t dev, dev_t parent, bool keep)
{
	char val[64];
	size_t o = 0;

	while (*tpl && o + 1 < n) {
		val[0] = 0;
		if (!strncmp(tpl, "@SECTORS@", 9)) {
			snprintf(val, sizeof(val), "%" U64F, sectors);
			tpl += 9;
		} else if (!keep && !strncmp(tpl, "@DEV@", 5)) {
			snprintf(val, sizeof(val), "%u:%u", major(dev), minor(dev));
			tpl += 5;
		} else if (!keep && !strncmp(tpl, "@PARENT@", 8)) {
			snprintf(val, sizeof(val), "%u:%u", major(parent),
				 minor(parent));
			tpl += 8;
		} else {
			out[o++] = *tpl++;
			continue;
		}
		o += snprintf(out + o, n - o, "%s", val);
		if (o >= n)
			o = n - 1;
	}
	out[o] = 0;
}

static void expand(char *out, size_t n, const char *tpl, u64 sectors,
		   dev_t dev, dev_t parent)
{
	expand_ex(out, n, tpl, sectors, dev, parent, false);
}

/* ---- the kernel log ---- */

static int kmsg = -1;

static const char *const patterns[] = {
	"KASAN", "UBSAN", "BUG:", "WARNING:", "Oops", "kernel BUG",
	"general protection fault", "possible recursive locking",
	"possible circular locking", "inconsistent lock state",
	"lock held when returning", "bad unlock balance", "held lock freed",
	"suspicious RCU usage", "DEBUG_LOCKS_WARN_ON", "irq lock inversion",
	"sleeping function called", "scheduling while atomic", "ODEBUG",
	"blocked for more than", "list_add corruption", "list_del corruption",
	"refcount_t:", "Kernel panic", "stack-protector", "double fault",
	"kmemleak: Cannot",
};

static void kmsg_open(void)
{
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg < 0)
		die("cannot open /dev/kmsg: %s", strerror(errno));
	lseek(kmsg, 0, SEEK_END);
}

/*
 * Read what the kernel logged since the last call into rep (the messages,
 * one a line); true if a checker reported something.
 */
static bool kmsg_check(char *rep, size_t n, char *first, size_t fn)
{
	const char *extra = getenv("FUZZK_PATTERN");
	char rec[8192], *msg, *nl;
	bool bad = false;
	size_t o = 0;
	ssize_t r;
	size_t i;

	rep[0] = 0;
	if (first)
		first[0] = 0;
	for (;;) {
		r = read(kmsg, rec, sizeof(rec) - 1);
		if (r < 0) {
			if (errno == EPIPE)
				continue;
			break;
		}
		rec[r] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (o + strlen(msg) + 2 < n)
			o += snprintf(rep + o, n - o, "%s\n", msg);
		/* FUZZK_PATTERN: one more (to try the findings' path). */
		if (extra && *extra && strstr(msg, extra) && !bad && first)
			snprintf(first, fn, "%s", msg);
		if (extra && *extra && strstr(msg, extra))
			bad = true;
		for (i = 0; i < ARRAY_SIZE(patterns); i++) {
			if (!strstr(msg, patterns[i]))
				continue;
			if (!bad && first)
				snprintf(first, fn, "%s", msg);
			bad = true;
		}
	}
	return bad;
}

/* ---- reads ---- */

static unsigned char *iobuf;

struct reads {
	unsigned long n, eio, other;
	int last_errno;
};

static ssize_t read_at(int fd, u64 off, size_t len, struct reads *rd)
{
	ssize_t r = pread(fd, iobuf, len, off);

	rd->n++;
	if (r < 0) {
		if (errno == EIO)
			rd->eio++;
		else
			rd->other++;
		rd->last_errno = errno;
	}
	return r;
}

/* Sequential, random 4 KiB, and whole units; capped at READ_CAP. */
static void read_device(int fd, u64 bytes, u64 unit,
			struct reads *rd)
{
	u64 off, u;
	int i;

	for (off = 0; off < bytes && off < READ_CAP; off += 65536)
		read_at(fd, off, bytes - off < 65536 ? bytes - off : 65536, rd);
	for (i = 0; i < 16 && bytes >= 4096; i++)
		read_at(fd, below(bytes / 4096) * 4096, 4096, rd);
	if (!unit || unit > IO_BUF)
		unit = 65536;
	for (i = 0; i < 4 && bytes >= unit; i++) {
		u = below(bytes / unit);
		read_at(fd, u * unit, unit, rd);
	}
	/* One read across two units. */
	if (bytes >= 2 * unit)
		read_at(fd, unit - 4096 >= 4096 ? unit - 4096 : 0, 8192, rd);
}

/* ---- one case: map, read, suspend, reload, resume, remove ---- */

struct input {
	const char *image, *table, *pimage, *ptable;
	u64 sectors, psectors, unit;
};

/* Runs in the child.  Exit status: 0, or 3 when the parent layer failed. */
static int run_input(const struct input *in, struct reads *rd, int *loaded)
{
	char line[1024], node[64];
	dev_t ldev, pldev = 0, pdev = 0, dev;
	int lfd, plfd = -1, fd, st = 0;
	u64 bytes;

	*loaded = 0;
	if (in->pimage) {
		plfd = loop_attach(in->pimage, &pldev);
		if (plfd < 0)
			return 3;
		expand(line, sizeof(line), in->ptable, in->psectors, pldev, 0);
		if (dm_cmd(DM_DEV_CREATE, DMPARENT, 0, &pdev) ||
		    dm_load(DMPARENT, line) ||
		    dm_cmd(DM_DEV_SUSPEND, DMPARENT, 0, NULL)) {
			dm_remove(DMPARENT);
			loop_detach(plfd);
			return 3;
		}
	}
	lfd = loop_attach(in->image, &ldev);
	if (lfd < 0) {
		st = 3;
		goto out_parent;
	}
	expand(line, sizeof(line), in->table, in->sectors, ldev, pdev);
	if (dm_cmd(DM_DEV_CREATE, DMNAME, 0, &dev)) {
		st = 3;
		goto out_loop;
	}
	if (dm_load(DMNAME, line))
		goto out_dm;
	*loaded = 1;
	if (dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL))
		goto out_dm;
	snprintf(node, sizeof(node), WORK "/dev-%d", getpid());
	fd = dm_open(dev, node);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &bytes))
		goto out_node;
	read_device(fd, bytes, in->unit, rd);
	close(fd);
	/* Suspend and resume (caches dropped), then reload the table. */
	dm_cmd(DM_DEV_SUSPEND, DMNAME, DM_SUSPEND_FLAG, NULL);
	dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL);
	if (!dm_load(DMNAME, line)) {
		*loaded = 2;
		dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL);
	}
	fd = open(node, O_RDONLY | O_DIRECT);
	if (fd >= 0) {
		int i;

		for (i = 0; i < 8 && bytes >= 4096; i++)
			read_at(fd, below(bytes / 4096) * 4096, 4096, rd);
		close(fd);
	}
out_node:
	unlink(node);
out_dm:
	dm_remove(DMNAME);
out_loop:
	loop_detach(lfd);
out_parent:
	if (in->pimage) {
		dm_remove(DMPARENT);
		loop_detach(plfd);
	}
	return st;
}

struct outcome {
	bool finding;
	bool stuck;		/* the child would not die: stop */
	char kind[32];
	char first[512];
	char report[65536];
	struct reads rd;
	int loaded;
};

/* The case in a child with a time limit; the kernel log checked after. */
static void run_guarded(const struct input *in, struct outcome *oc)
{
	int status = 0, waited;
	pid_t pid;
	char path[64], *stack;

	memset(oc, 0, sizeof(*oc));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		struct reads rd = { 0 };
		int loaded, st;

		alarm(timeout_s);
		st = run_input(in, &rd, &loaded);
		/* The counters, for the parent. */
		snprintf(path, sizeof(path), WORK "/stats-%d", getpid());
		{
			char s[128];

			snprintf(s, sizeof(s), "%lu %lu %lu %d %d", rd.n, rd.eio,
				 rd.other, rd.last_errno, loaded);
			write_file(path, s, strlen(s));
		}
		_exit(st);
	}
	for (waited = 0; waited < timeout_s * 10; waited++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		usleep(100000);
	}
	if (waited == timeout_s * 10) {
		snprintf(oc->kind, sizeof(oc->kind), "hang");
		snprintf(path, sizeof(path), "/proc/%d/stack", pid);
		stack = read_text(path);
		snprintf(oc->first, sizeof(oc->first),
			 "the case did not finish in %d s; stack: %.300s",
			 timeout_s, stack ? stack : "?");
		oc->finding = true;
		kill(pid, SIGKILL);
		for (waited = 0; waited < 100; waited++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			usleep(100000);
		}
		if (waited == 100)
			oc->stuck = true;
	} else if (WIFSIGNALED(status)) {
		snprintf(oc->kind, sizeof(oc->kind), "signal");
		snprintf(oc->first, sizeof(oc->first),
			 "the case died of signal %d", WTERMSIG(status));
		oc->finding = true;
	}
	snprintf(path, sizeof(path), WORK "/stats-%d", pid);
	stack = read_text(path);
	if (stack)
		sscanf(stack, "%lu %lu %lu %d %d", &oc->rd.n, &oc->rd.eio,
		       &oc->rd.other, &oc->rd.last_errno, &oc->loaded);
	unlink(path);
	if (!oc->stuck) {
		dm_cleanup();
		loop_sweep();
	}
	if (kmsg_check(oc->report, sizeof(oc->report), oc->kind[0] ? NULL :
		       oc->first, sizeof(oc->first)) && !oc->finding) {
		snprintf(oc->kind, sizeof(oc->kind), "report");
		oc->finding = true;
	}
}

/* ---- mutation ---- */

struct touched {
	u64 off, len;
};

static struct touched touched[65];
static int ntouched;
static u64 cur_size;

/*
 * Write the mutated bytes of buf to the work file (not past a truncation)
 * and remember them for seed_restore().
 */
static void touch(struct seed *s, int wfd, u64 off, u64 len)
{
	u64 n;

	if (off >= s->size)
		return;
	if (off + len > s->size)
		len = s->size - off;
	if (ntouched < 64)
		touched[ntouched++] = (struct touched){ off, len };
	else
		die("too many mutations");
	if (off >= cur_size)
		return;
	n = off + len > cur_size ? cur_size - off : len;
	if (pwrite(wfd, s->buf + off, n, off) != (ssize_t)n)
		die("cannot write %s", s->work);
}

/* Put the seed back as it was (its file is the pristine copy). */
static void seed_restore(struct seed *s, int wfd)
{
	int fd = open(s->image, O_RDONLY), i;
	u64 off, len;

	if (fd < 0)
		die("cannot open %s", s->image);
	if (cur_size < s->size) {
		if (ftruncate(wfd, s->size))
			die("cannot truncate %s", s->work);
		touched[ntouched++] = (struct touched){ cur_size, s->size - cur_size };
		cur_size = s->size;
	}
	for (i = 0; i < ntouched; i++) {
		off = touched[i].off;
		len = touched[i].len;
		if (pread(fd, s->buf + off, len, off) != (ssize_t)len ||
		    pwrite(wfd, s->buf + off, len, off) != (ssize_t)len)
			die("cannot restore %s", s->work);
	}
	ntouched = 0;
	close(fd);
}

static void put_int(unsigned char *p, int width, u64 v, bool be)
{
	int i;

	for (i = 0; i < width; i++)
		p[be ? width - 1 - i : i] = v >> (8 * i);
}

static u64 get_int(const unsigned char *p, int width, bool be)
{
	u64 v = 0;
	int i;

	for (i = 0; i < width; i++)
		v |= (u64)p[be ? width - 1 - i : i] << (8 * i);
	return v;
}

static u64 interesting(struct seed *s)
{
	static const u64 v[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0x1000,
		0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, 1ULL << 40, 1ULL << 62,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
	};

	switch (below(6)) {
	case 0:
		return s->size + below(4) * 512 - 512;
	case 1:
		return (s->size >> 9) + below(3) - 1;
	case 2:
		return below(s->size);
	case 3:
		return rnd();
	default:
		return v[below(ARRAY_SIZE(v))];
	}
}

/* One mutation of the seed's ranges; its description appended to log. */
static void mutate_one(struct seed *s, int wfd, char *log, size_t ln)
{
	struct range *r = &s->r[below(s->nr)], *r2;
	u64 pos = r->off + below(r->len), src, v;
	int width = 1 << below(4), op = below(20), i;
	bool be = below(2);
	unsigned char *p;

	if (pos + width > r->off + r->len)
		pos = r->off + r->len >= (u64)width ?
		      r->off + r->len - width : r->off;
	if (pos + width > s->size)
		return;
	pos &= ~(u64)(width - 1) | (below(4) ? 0 : ~0ULL);
	if (pos < r->off)
		pos = r->off;
	p = s->buf + pos;
	switch (op) {
	case 0 ... 5:
		p[0] ^= BIT(below(8));
		snprintf(log + strlen(log), ln - strlen(log), " flip@%s+%" U64F,
			 r->label, pos - r->off);
		width = 1;
		break;
	case 6 ... 10:
		v = interesting(s);
		put_int(p, width, v, be);
		snprintf(log + strlen(log), ln - strlen(log),
			 " set%d%s@%s+%" U64F "=%#" X64F, width * 8,
			 be ? "be" : "le", r->label, pos - r->off, v);
		break;
	case 11 ... 12:
		v = get_int(p, width, be) + below(17) - 8;
		put_int(p, width, v, be);
		snprintf(log + strlen(log), ln - strlen(log), " add@%s+%" U64F,
			 r->label, pos - r->off);
		break;
	case 13 ... 15:
		/* Copy an entry over another (same or another range). */
		r2 = below(2) ? r : &s->r[below(s->nr)];
		width = 8 << below(2);
		src = r2->off + below(r2->len);
		if (src + width > s->size || pos + width > s->size)
			return;
		memmove(p, s->buf + src, width);
		snprintf(log + strlen(log), ln - strlen(log),
			 " copy@%s+%" U64F "<-%s+%" U64F, r->label,
			 pos - r->off, r2->label, src - r2->off);
		break;
	case 16 ... 17:
		width = 1 + below(64);
		if (pos + width > s->size)
			width = s->size - pos;
		v = below(2) ? 0 : 0xff;
		for (i = 0; i < width; i++)
			p[i] = below(4) ? v : rnd();
		snprintf(log + strlen(log), ln - strlen(log), " fill%d@%s+%" U64F,
			 width, r->label, pos - r->off);
		break;
	case 18:
		for (i = 0; i < width; i++)
			p[i] = rnd();
		snprintf(log + strlen(log), ln - strlen(log), " rand%d@%s+%" U64F,
			 width, r->label, pos - r->off);
		break;
	default:
		if (below(3))
			return;
		/* Truncate: inside a range or anywhere. */
		v = below(2) ? pos : below(s->size);
		v &= ~511ULL;
		if (v < cur_size) {
			if (ftruncate(wfd, v))
				die("cannot truncate");
			cur_size = v;
		}
		snprintf(log + strlen(log), ln - strlen(log),
			 " truncate=%" U64F, v);
		return;
	}
	touch(s, wfd, pos, width);
}

static void mutate(struct seed *s, int wfd, char *log, size_t ln)
{
	int n = 1 + below(below(4) ? 4 : 12), i;
	u64 j;
	u32 c;

	log[0] = 0;
	for (i = 0; i < n; i++)
		mutate_one(s, wfd, log, ln);
	/* Checksums fixed up most times, so the mutation reaches the parser. */
	for (i = 0; i < s->nc; i++) {
		struct crc *k = &s->c[i];

		if (below(5) == 0 || k->off + k->len > s->size ||
		    k->field + 4 > s->size)
			continue;
		memset(s->buf + k->field, 0, 4);
		if (k->sum) {
			for (c = 0, j = 0; j < k->len; j++)
				c += s->buf[k->off + j];
			c = ~c;
		} else {
			c = crc32c(s->buf + k->off, k->len);
		}
		put_int(s->buf + k->field, 4, c, k->sum);
		touch(s, wfd, k->field, 4);
	}
}

static void seed_open(struct seed *s)
{
	char *q;
	int fd;

	if (s->buf)
		return;
	s->buf = slurp(s->image, &s->size);
	snprintf(s->work, sizeof(s->work), WORK "/%s", s->name);
	for (q = s->work + strlen(WORK) + 1; *q; q++)
		if (*q == '/')
			*q = '_';
	fd = open(s->work, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s->buf, s->size) != (ssize_t)s->size)
		die("cannot write %s", s->work);
	close(fd);
}

/* The work file is the seed again (checked now and then). */
static void check_restored(struct seed *s)
{
	u64 a, b;
	unsigned char *x = slurp(s->image, &a), *y = slurp(s->work, &b);

	if (a != b || memcmp(x, y, a) || memcmp(x, s->buf, a))
		die("%s: the work copy was not restored", s->name);
	free(x);
	free(y);
}

/* ---- findings ---- */

static char seen[64][160];
static int nseen;

/* The first report line without numbers and addresses: one save each. */
static bool new_signature(const char *first)
{
	char sig[160];
	size_t o = 0;
	int i;

	for (; *first && o + 1 < sizeof(sig); first++)
		if (!isdigit((unsigned char)*first) && *first != 'x')
			sig[o++] = *first;
	sig[o] = 0;
	for (i = 0; i < nseen; i++)
		if (!strcmp(seen[i], sig))
			return false;
	if (nseen < 64)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", sig);
	return true;
}

static void copy_file(const char *from, const char *to, u64 len)
{
	u64 size;
	unsigned char *p = slurp(from, &size);

	if (len > size)
		len = size;
	write_file(to, p, len);
	free(p);
}

static void save_finding(const char *outdir, struct seed *s, const char *what,
			 const char *table, const struct outcome *oc)
{
	char dir[512], path[600];
	struct seed *p = s->parent[0] ? find_seed(s->parent) : NULL;
	char *sync = getenv("FUZZK_SYNC");

	snprintf(dir, sizeof(dir), "%s/%s", outdir, s->fmt);
	mkdir(outdir, 0755);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/%s/%s", outdir, s->fmt, what);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/image", dir);
	write_file(path, s->buf, cur_size < s->size ? cur_size : s->size);
	snprintf(path, sizeof(path), "%s/table", dir);
	write_file(path, table, strlen(table));
	if (p) {
		snprintf(path, sizeof(path), "%s/parent.image", dir);
		copy_file(p->image, path, p->size ? p->size : ~0ULL);
		snprintf(path, sizeof(path), "%s/parent.table", dir);
		write_file(path, p->table, strlen(p->table));
	}
	snprintf(path, sizeof(path), "%s/report", dir);
	{
		FILE *f = fopen(path, "w");

		if (f) {
			fprintf(f, "%s: %s\n%s", oc->kind, oc->first, oc->report);
			fclose(f);
		}
	}
	if (sync && system(sync))
		fprintf(stderr, "fuzzk: %s failed\n", sync);
}

/* ---- modes ---- */

static void setup(void)
{
	mkdir(WORK, 0755);
	dm_ctl = open("/dev/mapper/control", O_RDWR);
	if (dm_ctl < 0) {
		mkdir("/dev/mapper", 0755);
		dm_ctl = open("/dev/mapper/control", O_RDWR);
	}
	if (dm_ctl < 0)
		die("cannot open /dev/mapper/control: %s", strerror(errno));
	if (posix_memalign((void **)&iobuf, 4096, IO_BUF))
		die("out of memory");
	kmsg_open();
}

static bool in_list(const char *list, const char *fmt)
{
	size_t n = strlen(fmt);
	const char *p = list;

	if (!list || !*list)
		return true;
	while ((p = strstr(p, fmt))) {
		if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
		    (!p[n] || p[n] == ',' || p[n] == ' '))
			return true;
		p += n;
	}
	return false;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int mode_fuzz(int argc, char **argv)
{
	const char *outdir, *formats = NULL;
	unsigned long long seed = time(NULL) % 100000, iters = ~0ULL, first = 0;
	int seconds = 60, max_findings = 20, total = 0, opt, i, f, nf = 0;
	char fmts[MAX_SEEDS][32], table[1024], what[256], log[2048];
	u64 sectors;
	struct outcome *oc = malloc(sizeof(*oc));

	if (argc < 3)
		die("usage: fuzzk fuzz SEEDDIR OUTDIR [options]");
	seeddir = argv[1];
	outdir = argv[2];
	optind = 3;
	while ((opt = getopt(argc, argv, "s:f:t:n:k:i:T:")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			formats = optarg;
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'n':
			iters = strtoull(optarg, NULL, 0);
			break;
		case 'k':
			max_findings = atoi(optarg);
			break;
		case 'i':
			first = strtoull(optarg, NULL, 0);
			break;
		case 'T':
			timeout_s = atoi(optarg);
			break;
		default:
			die("bad option");
		}
	}
	load_seeds(seeddir);
	setup();
	printf("fuzzk: seed %llu (rerun: fuzzk fuzz SEEDDIR OUTDIR -s %llu -f FMT -i ITER -n 1)\n",
	       seed, seed);
	/* The formats, in seed order. */
	for (i = 0; i < nseeds; i++) {
		for (f = 0; f < nf; f++)
			if (!strcmp(fmts[f], seeds[i].fmt))
				break;
		if (f == nf && in_list(formats, seeds[i].fmt))
			snprintf(fmts[nf++], sizeof(fmts[0]), "%s", seeds[i].fmt);
	}
	for (f = 0; f < nf; f++) {
		struct seed *mine[MAX_SEEDS];
		int nmine = 0, wfd;
		struct stats st = { 0 };
		double t0 = now();
		unsigned long long it;

		for (i = 0; i < nseeds; i++)
			if (!strcmp(seeds[i].fmt, fmts[f]))
				mine[nmine++] = &seeds[i];
		for (it = first; it < first + iters && now() - t0 < seconds &&
		     total < max_findings; it++) {
			struct seed *s, *p = NULL;
			struct input in = { 0 };
			u64 h = seed * 0x100000001b3ULL;

			/* Every iteration reproducible on its own. */
			for (i = 0; fmts[f][i]; i++)
				h = (h ^ (unsigned char)fmts[f][i]) * 0x100000001b3ULL;
			rng_state = h ^ (it * 0x9e3779b97f4a7c15ULL);
			rnd();
			s = mine[below(nmine)];
			seed_open(s);
			if (s->parent[0]) {
				p = find_seed(s->parent);
				if (!p)
					die("%s: no parent seed %s", s->name, s->parent);
				seed_open(p);
			}
			wfd = open(s->work, O_WRONLY);
			if (wfd < 0)
				die("cannot open %s", s->work);
			cur_size = s->size;
			mutate(s, wfd, log, sizeof(log));
			sectors = s->sectors;
			if (!below(25))
				sectors = below(2) ? sectors + (s->unit >> 9) :
					  sectors * 2;
			/* The table as saved: @DEV@ and @PARENT@ stay. */
			expand_ex(table, sizeof(table), s->table, sectors, 0, 0,
				  true);
			in.image = s->work;
			in.table = table;
			in.sectors = sectors;
			in.unit = s->unit;
			if (p) {
				in.pimage = p->work;
				in.ptable = p->table;
				in.psectors = p->sectors;
			}
			run_guarded(&in, oc);
			st.iters++;
			st.loads += 1 + (oc->loaded > 0);
			st.loaded += oc->loaded > 0;
			st.reads += oc->rd.n;
			st.eio += oc->rd.eio;
			st.other += oc->rd.other;
			if (oc->finding) {
				st.findings++;
				total++;
				printf("fuzzk: FINDING %s %s iter %llu (%s): %s\n  mutations:%s\n",
				       fmts[f], s->name, it, oc->kind, oc->first, log);
				if (new_signature(oc->first)) {
					snprintf(what, sizeof(what), "%s-s%llu-i%llu",
						 s->name, seed, it);
					save_finding(outdir, s, what, table, oc);
				}
			}
			seed_restore(s, wfd);
			close(wfd);
			if (it % 50 == 7)
				check_restored(s);
			if (oc->stuck) {
				printf("fuzzk: a case would not end: stopping\n");
				total = max_findings;
			}
		}
		printf("fuzzk: format %s: %lu iterations, %lu loads (%lu loaded), ",
		       fmts[f], st.iters, st.loads, st.loaded);
		printf("%lu reads (%lu EIO, %lu other errors), %lu findings, %.0f s\n",
		       st.reads, st.eio,
		       st.other, st.findings, now() - t0);
		verdict(st.findings == 0 && st.iters > 0,
			"fuzz %s: %lu iterations (seed %llu) without a finding",
			fmts[f], st.iters, seed);
		fflush(stdout);
	}
	free(oc);
	return total ? 1 : 0;
}

/* replay CASEDIR...: image, table [, parent.image, parent.table] */
static int mode_replay(int argc, char **argv)
{
	struct outcome *oc = malloc(sizeof(*oc));
	char path[600], table[1024], ptable[1024], *t;
	struct input in;
	int i, bad = 0;

	setup();
	for (i = 1; i < argc; i++) {
		memset(&in, 0, sizeof(in));
		snprintf(path, sizeof(path), "%s/table", argv[i]);
		t = read_text(path);
		if (!t) {
			verdict(false, "replay %s: has a table", argv[i]);
			bad++;
			continue;
		}
		snprintf(table, sizeof(table), "%s", t);
		in.table = table;
		if (sscanf(table, "%*u %" U64F, &in.sectors) != 1)
			in.sectors = 0;
		snprintf(path, sizeof(path), "%s/parent.table", argv[i]);
		t = read_text(path);
		if (t) {
			snprintf(ptable, sizeof(ptable), "%s", t);
			in.ptable = ptable;
			if (sscanf(ptable, "%*u %" U64F, &in.psectors) != 1)
				in.psectors = 0;
			snprintf(path, sizeof(path), "%s/parent.image", argv[i]);
			in.pimage = strdup(path);
		}
		/* The table's @SECTORS@ was expanded when saved. */
		snprintf(path, sizeof(path), "%s/image", argv[i]);
		in.image = strdup(path);
		in.unit = 65536;
		rng_state = 1;
		run_guarded(&in, oc);
		verdict(!oc->finding, "replay %s: no report, no hang (%lu reads, %lu EIO)%s%s",
			argv[i], oc->rd.n, oc->rd.eio, oc->finding ? ": " : "",
			oc->finding ? oc->first : "");
		if (oc->finding) {
			bad++;
			fputs(oc->report, stdout);
		}
		if (oc->stuck)
			break;
	}
	free(oc);
	return bad ? 1 : 0;
}

/* Map a seed unmutated (its parent too); returns the dm fd. */
struct mapped {
	int lfd, plfd, fd;
	dev_t ldev, dev;
	u64 bytes;
	char line[1024];
};

static int map_parent(struct seed *s, struct mapped *m, dev_t *pdev)
{
	struct seed *p = s->parent[0] ? find_seed(s->parent) : NULL;
	char line[1024];
	dev_t pl;

	m->plfd = -1;
	*pdev = 0;
	if (!p)
		return 0;
	m->plfd = loop_attach(p->image, &pl);
	if (m->plfd < 0)
		return -1;
	expand(line, sizeof(line), p->table, p->sectors, pl, 0);
	if (dm_cmd(DM_DEV_CREATE, DMPARENT, 0, pdev) || dm_load(DMPARENT, line) ||
	    dm_cmd(DM_DEV_SUSPEND, DMPARENT, 0, NULL))
		return -1;
	return 0;
}

static void unmap_all(struct mapped *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	dm_cleanup();
	loop_detach(m->lfd);
	loop_detach(m->plfd);
	m->lfd = -1;
	m->plfd = -1;
}

/* Read the whole device (at most READ_CAP) in 64 KiB reads into ref. */
static int read_all(int fd, u64 bytes, unsigned char *ref)
{
	u64 off;
	size_t n;

	for (off = 0; off < bytes && off < READ_CAP; off += n) {
		n = bytes - off < 65536 ? bytes - off : 65536;
		if (pread(fd, iobuf, n, off) != (ssize_t)n)
			return -1;
		memcpy(ref + off, iobuf, n);
	}
	return 0;
}

/* Map seed s unmutated (its parent first) and read it whole into ref. */
static int map_seed(struct seed *s, struct mapped *m, dev_t *pdev,
		    const char *node, unsigned char *ref)
{
	memset(m, 0, sizeof(*m));
	m->lfd = -1;
	m->fd = -1;
	if (map_parent(s, m, pdev))
		return -1;
	m->lfd = loop_attach(s->image, &m->ldev);
	if (m->lfd < 0)
		return -1;
	expand(m->line, sizeof(m->line), s->table, s->sectors, m->ldev, *pdev);
	if (dm_cmd(DM_DEV_CREATE, DMNAME, 0, &m->dev) || dm_load(DMNAME, m->line) ||
	    dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL))
		return -1;
	m->fd = dm_open(m->dev, node);
	if (m->fd < 0 || ioctl(m->fd, BLKGETSIZE64, &m->bytes))
		return -1;
	return read_all(m->fd, m->bytes, ref);
}

static bool same(const unsigned char *ref, const unsigned char *got, u64 bytes)
{
	return !memcmp(ref, got, bytes < READ_CAP ? bytes : READ_CAP);
}

static int mode_failnth(int argc, char **argv)
{
	static char rep[65536], first[512];
	unsigned char *ref = malloc(READ_CAP), *got = malloc(READ_CAP);
	int i, n, bad_total = 0, nth, stride = 1;
	char node[] = WORK "/nth-dev", val[32];
	struct mapped m;
	dev_t pdev;

	if (argc < 3)
		die("usage: fuzzk failnth SEEDDIR [-S STRIDE] SEED...");
	/* -S STRIDE: past n = 32, every STRIDE-th allocation only. */
	if (argc > 4 && !strcmp(argv[2], "-S")) {
		stride = atoi(argv[3]) > 0 ? atoi(argv[3]) : 1;
		argv[3] = argv[1];
		argv[2] = argv[0];
		argv += 2;
		argc -= 2;
	}
	load_seeds(argv[1]);
	setup();
	put_sys("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	put_sys("/sys/kernel/debug/failslab/verbose", "0");
	put_sys("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N");
	put_sys("/sys/kernel/debug/fail_page_alloc/min-order", "0");
	put_sys("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth < 0) {
		verdict(false, "%s: /proc/thread-self/fail-nth opens (%s)", argv[0],
			strerror(errno));
		return 1;
	}
	for (i = 2; i < argc; i++) {
		struct seed *s = find_seed(argv[i]);
		int failed = 0, dirty = 0, wrong = 0, reports = 0, ok = 0;

		if (!s)
			die("no seed %s", argv[i]);
		if (map_seed(s, &m, &pdev, node, ref)) {
			verdict(false, "%s %s: maps and reads unfaulted", argv[0], s->name);
			unmap_all(&m);
			bad_total++;
			continue;
		}
		close(m.fd);
		m.fd = -1;
		dm_remove(DMNAME);
		kmsg_check(rep, sizeof(rep), NULL, 0);
		for (n = 1; n < 5000; n += n < 32 ? 1 : stride) {
			int r, e, left;
			char *v;

			if (dm_cmd(DM_DEV_CREATE, DMNAME, 0, &m.dev))
				die("cannot create %s: %s", DMNAME, strerror(errno));
			snprintf(val, sizeof(val), "%d", n);
			if (pwrite(nth, val, strlen(val), 0) < 0)
				die("fail-nth: %s", strerror(errno));
			r = dm_load(DMNAME, m.line);
			e = errno;
			memset(val, 0, sizeof(val));
			left = pread(nth, val, sizeof(val) - 1, 0) > 0 ? atoi(val) : -1;
			if (pwrite(nth, "0", 1, 0) < 0)
				die("fail-nth: %s", strerror(errno));
			v = NULL;
			if (r) {
				failed++;
				/* A failed load leaves nothing behind. */
				if (dm_inactive_targets(DMNAME) != 0) {
					dirty++;
					printf("fuzzk: %s n=%d: failed load (%s) left a table\n",
					       s->name, n, strerror(e));
				}
			} else {
				m.fd = -1;
				if (!dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL))
					m.fd = dm_open(m.dev, node);
				if (m.fd < 0)
					v = "does not resume";
				else if (read_all(m.fd, m.bytes, got) || !same(ref, got, m.bytes))
					v = "reads wrong";
				if (m.fd >= 0)
					close(m.fd);
				m.fd = -1;
				if (v) {
					wrong++;
					printf("fuzzk: %s n=%d: the load succeeded (fault %s)",
					       s->name, n, left ? "not reached" : "injected");
					printf(" but the device %s\n", v);
				}
			}
			dm_remove(DMNAME);
			if (kmsg_check(rep, sizeof(rep), first, sizeof(first))) {
				reports++;
				printf("fuzzk: %s n=%d: kernel report: %s\n%s", s->name, n,
				       first, reports < 3 ? rep : "");
			}
			if (!r && left != 0) {
				ok = 1;
				break;
			}
		}
		unmap_all(&m);
		verdict(ok && !dirty && !wrong && !reports,
			"failnth %s: %d failed table loads clean (n = 1..%d, stride %d), then loaded",
			s->name, failed, n, stride);
		bad_total += !(ok && !dirty && !wrong && !reports);
	}
	close(nth);
	free(ref);
	free(got);
	return bad_total ? 1 : 0;
}

/* Reads under faults: each fails with EIO or returns the right data. */
static void faulty_reads(int fd, u64 bytes, u64 unit,
			 const unsigned char *ref, double seconds,
			 unsigned long *n, unsigned long *eio, unsigned long *bad)
{
	double t0 = now();
	u64 off, len;
	ssize_t r;

	if (!unit || unit > IO_BUF)
		unit = 65536;
	while (now() - t0 < seconds) {
		switch (below(3)) {
		case 0:
			len = 4096;
			off = below(bytes / len) * len;
			break;
		case 1:
			len = unit;
			off = below(bytes / len) * len;
			break;
		default:
			len = 65536;
			off = below(bytes / len) * len;
		}
		if (off + len > bytes || off + len > READ_CAP)
			continue;
		r = pread(fd, iobuf, len, off);
		(*n)++;
		if (r < 0 && errno == EIO)
			(*eio)++;
		else if (r != (ssize_t)len || memcmp(iobuf, ref + off, len))
			(*bad)++;
	}
}

static int mode_failio(int argc, char **argv)
{
	static char rep[65536], first[512];
	unsigned char *ref = malloc(READ_CAP), *got = malloc(READ_CAP);
	char node[] = WORK "/io-dev", path[128], line[1024], fl[256];
	int i, bad_total = 0, tries;
	struct mapped m;
	dev_t pdev, fdev;

	if (argc < 3)
		die("usage: fuzzk failio SEEDDIR SEED...");
	load_seeds(argv[1]);
	setup();
	put_sys("/sys/kernel/debug/fail_make_request/verbose", "0");
	put_sys("/sys/kernel/debug/fail_make_request/interval", "1");
	put_sys("/sys/kernel/debug/fail_make_request/times", "-1");
	for (i = 2; i < argc; i++) {
		struct seed *s = find_seed(argv[i]);
		unsigned long n = 0, eio = 0, bad = 0;
		bool after = true, reports = false, opened;

		if (!s)
			die("no seed %s", argv[i]);
		rng_state = i;
		if (map_seed(s, &m, &pdev, node, ref)) {
			verdict(false, "%s %s: maps and reads unfaulted", argv[0], s->name);
			unmap_all(&m);
			bad_total++;
			continue;
		}
		kmsg_check(rep, sizeof(rep), NULL, 0);
		/* fail_make_request on the loop device, caches dropped first. */
		snprintf(path, sizeof(path), "/sys/block/loop%u/make-it-fail",
			 minor(m.ldev));
		put_sys("/sys/kernel/debug/fail_make_request/probability", "20");
		dm_cmd(DM_DEV_SUSPEND, DMNAME, DM_SUSPEND_FLAG, NULL);
		dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL);
		put_sys(path, "1");
		faulty_reads(m.fd, m.bytes, s->unit, ref, 6, &n, &eio, &bad);
		put_sys(path, "0");
		put_sys("/sys/kernel/debug/fail_make_request/probability", "0");
		/* Errors are not sticky: the faults gone, it reads right. */
		if (read_all(m.fd, m.bytes, got) ||
		    memcmp(ref, got, m.bytes < READ_CAP ? m.bytes : READ_CAP)) {
			dm_cmd(DM_DEV_SUSPEND, DMNAME, DM_SUSPEND_FLAG, NULL);
			dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL);
			after = !read_all(m.fd, m.bytes, got) &&
				!memcmp(ref, got, m.bytes < READ_CAP ? m.bytes : READ_CAP);
			printf("fuzzk: %s: after fail_make_request it read wrong; ", s->name);
			printf("after a resume: %s\n", after ? "right" : "still wrong");
			after = false;
		}
		close(m.fd);
		m.fd = -1;
		dm_remove(DMNAME);
		if (kmsg_check(rep, sizeof(rep), first, sizeof(first))) {
			reports = true;
			printf("fuzzk: %s: kernel report under fail_make_request: %s\n%s",
			       s->name, first, rep);
		}
		verdict(eio && !bad && after && !reports,
			"failio %s: fail_make_request: %lu reads, some EIO (%lu), none wrong (%lu), right after",
			s->name, n, eio, bad);
		bad_total += !(eio && !bad && after && !reports);

		/* dm-flakey under the image: up 1 s, down 1 s. */
		n = 0;
		eio = 0;
		bad = 0;
		reports = false;
		{
			u64 lsize = 0;
			int lfd2 = dup(m.lfd);

			ioctl(lfd2, BLKGETSIZE64, &lsize);
			close(lfd2);
			snprintf(fl, sizeof(fl), "0 %" U64F " flakey %u:%u 0 1 1",
				 lsize >> 9, major(m.ldev), minor(m.ldev));
		}
		m.fd = -1;
		if (dm_cmd(DM_DEV_CREATE, DMFLAKEY, 0, &fdev) || dm_load(DMFLAKEY, fl) ||
		    dm_cmd(DM_DEV_SUSPEND, DMFLAKEY, 0, NULL)) {
			verdict(false, "failio %s: dm-flakey table loads (%s)", s->name, fl);
			unmap_all(&m);
			bad_total++;
			continue;
		}
		expand(line, sizeof(line), s->table, s->sectors, fdev, pdev);
		/* The header read may fall in a down interval: try again. */
		for (tries = 0; tries < 20; tries++) {
			if (!dm_cmd(DM_DEV_CREATE, DMNAME, 0, &m.dev) &&
			    !dm_load(DMNAME, line) &&
			    !dm_cmd(DM_DEV_SUSPEND, DMNAME, 0, NULL))
				break;
			dm_remove(DMNAME);
			usleep(250000);
		}
		if (tries < 20)
			m.fd = dm_open(m.dev, node);
		opened = m.fd >= 0;
		if (opened) {
			faulty_reads(m.fd, m.bytes, s->unit, ref, 6, &n, &eio, &bad);
			close(m.fd);
			m.fd = -1;
		}
		dm_remove(DMNAME);
		if (kmsg_check(rep, sizeof(rep), first, sizeof(first))) {
			reports = true;
			printf("fuzzk: %s: kernel report under dm-flakey: %s\n%s",
			       s->name, first, rep);
		}
		verdict(opened && eio && !bad && !reports,
			"failio %s: dm-flakey: %lu reads, some EIO (%lu), none wrong (%lu)",
			s->name, n, eio, bad);
		bad_total += !(opened && eio && !bad && !reports);
		unmap_all(&m);
	}
	free(ref);
	free(got);
	return bad_total ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		die("usage: fuzzk fuzz|replay|failnth|failio ...");
	if (!strcmp(argv[1], "fuzz"))
		return mode_fuzz(argc - 1, argv + 1);
	if (!strcmp(argv[1], "replay"))
		return mode_replay(argc - 1, argv + 1);
	if (!strcmp(argv[1], "failnth"))
		return mode_failnth(argc - 1, argv + 1);
	if (!strcmp(argv[1], "failio"))
		return mode_failio(argc - 1, argv + 1);
	die("unknown mode %s", argv[1]);
	return 2;
}
