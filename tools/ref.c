// SPDX-License-Identifier: GPL-2.0
/*
 * The one place that decides which files an image may name.  A name is
 * resolved beneath the folder of the image that holds it (or of the image
 * the user named, or beneath an --allow), with openat2(RESOLVE_BENEATH), so
 * neither "../" nor a symbolic link leads out; it is first opened O_PATH,
 * which touches nothing, and only a regular file (or a block device an
 * --allow names) is then opened for reading.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "disk.h"
#include "ref.h"

static const struct {
	const char *name, *missing;
} kinds[] = {
	[VD_REF_EXTENT] = { "extent file", "extent file not found" },
	[VD_REF_PARENT] = { "parent", "parent not found" },
	[VD_REF_BACKING] = { "backing file", "parent not found" },
	[VD_REF_DATA] = { "data file", "external data file not found" },
};

const char *ref_kind_name(enum vd_ref_kind kind)
{
	return kinds[kind].name;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return strndup(path, (size_t)(slash - path)) ?: xstrdup("/");
}

/* @path is @root or lies beneath it (both canonical). */
static bool under(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return path[0] == '/';
	return !strncmp(path, root, n) && (path[n] == '/' || !path[n]);
}

int policy_allow(struct vd_policy *p, const char *path)
{
	struct stat st;
	char *real = realpath(path, NULL);

	if (!real || stat(real, &st)) {
		free(real);
		return err_at(path, "--allow: %s", strerror(errno));
	}
	p->allow = xrealloc(p->allow, p->n_allow + 1, sizeof(*p->allow));
	p->allow_dir = xrealloc(p->allow_dir, p->n_allow + 1, sizeof(*p->allow_dir));
	p->allow_rdev = xrealloc(p->allow_rdev, p->n_allow + 1, sizeof(*p->allow_rdev));
	p->allow[p->n_allow] = real;
	p->allow_rdev[p->n_allow] = S_ISBLK(st.st_mode) ? st.st_rdev : 0;
	p->allow_dir[p->n_allow++] = S_ISDIR(st.st_mode);
	return 0;
}

void policy_top(struct vd_policy *p, const char *image)
{
	char *dir = dir_of(image);

	free(p->top_dir);
	p->top_dir = realpath(dir, NULL);
	free(dir);
}

void policy_free(struct vd_policy *p)
{
	unsigned int i;

	for (i = 0; i < p->n_allow; i++)
		free(p->allow[i]);
	for (i = 0; i < p->n_refs; i++) {
		free(p->refs[i].image);
		free(p->refs[i].name);
		free(p->refs[i].path);
	}
	free(p->allow);
	free(p->allow_dir);
	free(p->allow_rdev);
	free(p->refs);
	free(p->top_dir);
	memset(p, 0, sizeof(*p));
}

/*
 * Open @rel beneath the folder @root.  Kernels before 5.6 lack openat2:
 * there the canonical path is checked, then opened without following a
 * last symbolic link (a race with a rename remains on such kernels).
 */
static int open_beneath(const char *root, const char *rel, int flags)
{
	/* openat2 refuses O_PATH with any flag but a few. */
	struct open_how how = {
		.flags = (unsigned int)(flags | O_CLOEXEC |
					(flags & O_PATH ? 0 : O_NOCTTY)),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	char *full, *real, *canon;
	int dfd, fd, e;

	dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	e = errno;
	close(dfd);
	errno = e;
	if (fd >= 0 || errno != ENOSYS)
		return fd;

	if (rel[0] == '/' || asprintf(&full, "%s/%s", root, rel) < 0) {
		errno = EXDEV;
		return -1;
	}
	real = realpath(full, NULL);
	canon = realpath(root, NULL);
	fd = -1;
	e = EXDEV;
	if (!real || !canon)
		e = errno;
	else if (under(real, canon))
		fd = open(real, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0 && real && canon && under(real, canon))
		e = errno;
	free(full);
	free(real);
	free(canon);
	errno = e;
	return fd;
}

/* @path made absolute with "." and ".." taken out, without looking. */
static char *lexical(const char *path)
{
	char cwd[PATH_MAX], *out, *o;
	const char *s = path, *e;
	size_t n;

	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", path[0] == '/' ? "" : cwd, path) < 0)
		return NULL;
	s = out;
	o = out;
	while (*s) {
		while (*s == '/')
			s++;
		e = strchrnul(s, '/');
		n = (size_t)(e - s);
		if (n == 2 && !strncmp(s, "..", 2)) {
			while (o > out && *--o != '/')
				;
		} else if (n && !(n == 1 && *s == '.')) {
			*o++ = '/';
			memmove(o, s, n);
			o += n;
		}
		s = e;
	}
	if (o == out)
		*o++ = '/';
	*o = 0;
	return out;
}

/* Where a name leads, and whether the policy lets it be opened. */
struct lookup {
	int fd;			/* O_PATH */
	char *root, *rel;	/* opened as @rel beneath @root */
	bool by_allow;		/* an --allow covers it */
	bool by_name;		/* ... naming this very file */
	struct stat st;
};

/* An --allow covering the canonical @real: 1 for the file itself. */
static int allowed(const struct vd_policy *p, const char *real, unsigned int *which)
{
	unsigned int i;

	for (i = 0; i < p->n_allow; i++) {
		if (!strcmp(real, p->allow[i])) {
			*which = i;
			return 1 + !p->allow_dir[i];
		}
		if (p->allow_dir[i] && under(real, p->allow[i])) {
			*which = i;
			return 1;
		}
	}
	return 0;
}

/* Try @real beneath @root (a folder), or as the file @root itself. */
static bool try_root(struct lookup *l, const char *root, bool dir, const char *real)
{
	const char *rel;
	char *rdir;

	if (dir) {
		if (!under(real, root) || !strcmp(real, root))
			return false;
		rel = real + strlen(root);
		while (*rel == '/')
			rel++;
		rdir = xstrdup(root);
	} else {
		if (strcmp(real, root))
			return false;
		rdir = dir_of(root);
		rel = strrchr(root, '/') + 1;
	}
	l->fd = open_beneath(rdir, rel, O_PATH);
	if (l->fd < 0) {
		free(rdir);
		return false;
	}
	l->root = rdir;
	l->rel = xstrdup(rel);
	return true;
}

/*
 * Resolve @name, written in @image; fill @r (path, found, refused) and,
 * when something is there that may be opened, @l.
 */
static void lookup(const struct vd_policy *p, const char *image, const char *name,
		   struct vd_ref *r, struct lookup *l)
{
	unsigned int i, which;
	char *real, *dir;
	int cover;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	r->path = vd_resolve(image, name);
	if (!*name) {
		r->refused = "is empty";
		return;
	}
	if (name[0] != '/') {
		dir = dir_of(image);
		l->fd = open_beneath(dir, name, O_PATH);
		if (l->fd >= 0) {
			l->root = dir;
			l->rel = xstrdup(name);
		} else {
			free(dir);
			if (errno == ENOENT || errno == ENOTDIR)
				return;		/* not found, in the folder */
			if (errno != EXDEV && errno != ELOOP) {
				r->refused = "cannot be looked up";
				return;
			}
		}
	}

	real = realpath(r->path, NULL);
	if (!real) {
		/* Missing: say "not found" only when the policy would allow it. */
		char *lex = lexical(r->path);

		if (l->fd < 0 && (!lex || !((p->top_dir && under(lex, p->top_dir)) ||
					    allowed(p, lex, &which))))
			r->refused = "is outside the image's folder (use --allow)";
		free(lex);
		return;
	}
	cover = allowed(p, real, &which);
	l->by_allow = cover > 0;
	l->by_name = cover == 2;
	r->found = true;
	if (l->fd < 0) {
		free(r->path);
		r->path = real;
		if (cover)
			try_root(l, p->allow[which], p->allow_dir[which], real);
		if (l->fd < 0 && p->top_dir)
			try_root(l, p->top_dir, true, real);
		for (i = 0; l->fd < 0 && i < p->n_allow; i++)
			try_root(l, p->allow[i], p->allow_dir[i], real);
		if (l->fd < 0) {
			r->refused = "is outside the image's folder (use --allow)";
			return;
		}
	} else {
		free(real);
	}
	if (fstat(l->fd, &l->st)) {
		r->refused = "cannot be looked up";
		return;
	}
	switch (l->st.st_mode & S_IFMT) {
	case S_IFREG:
		break;
	case S_IFBLK:
		/* Any node of a device an --allow names is that device. */
		for (i = 0; i < p->n_allow && !l->by_allow; i++)
			l->by_allow = p->allow_rdev[i] == l->st.st_rdev;
		if (!l->by_allow)
			r->refused = "is a block device (use --allow)";
		break;
	case S_IFIFO:
		r->refused = "is a FIFO, not a regular file";
		break;
	case S_IFCHR:
		r->refused = "is a character device, not a regular file";
		break;
	case S_IFDIR:
		r->refused = "is a folder, not a regular file";
		break;
	default:
		r->refused = "is not a regular file";
		break;
	}
}

static void lookup_done(struct lookup *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(l->root);
	free(l->rel);
}

static struct vd_ref *note(struct vd_policy *p, enum vd_ref_kind kind,
			   const char *image, const char *name, struct lookup *l)
{
	struct vd_ref *r;

	p->refs = xrealloc(p->refs, p->n_refs + 1, sizeof(*p->refs));
	r = &p->refs[p->n_refs++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->image = xstrdup(image);
	r->name = xstrdup(name);
	lookup(p, image, name, r, l);
	return r;
}

const struct vd_ref *ref_note(struct vd_policy *p, enum vd_ref_kind kind,
			      const char *image, const char *name)
{
	struct lookup l;
	struct vd_ref *r = note(p, kind, image, name, &l);

	lookup_done(&l);
	return r;
}

bool ref_usable(const struct vd_policy *p, const char *image, const char *name)
{
	struct vd_ref r = { 0 };
	struct lookup l;

	lookup(p, image, name, &r, &l);
	lookup_done(&l);
	free(r.path);
	return r.found && !r.refused;
}

int ref_open(struct vd_policy *p, enum vd_ref_kind kind, const char *image,
	     const char *name, struct vd_image *im, bool *by_name)
{
	struct lookup l;
	struct vd_ref *r = note(p, kind, image, name, &l);
	struct stat st;
	int fd = -1, e;

	if (r->refused || !r->found) {
		lookup_done(&l);
		if (p->lenient)
			return 1;
		if (!r->found && !r->refused)
			return err_at(image, "%s: %s", kinds[kind].missing, r->path);
		return err_at(image, "%s \"%s\" %s", kinds[kind].name, name, r->refused);
	}
	/* Now open it for reading: the very node that was looked at. */
	fd = open_beneath(l.root, l.rel, O_RDONLY | O_NONBLOCK);
	e = errno;
	if (fd >= 0 && (fstat(fd, &st) || st.st_dev != l.st.st_dev ||
			st.st_ino != l.st.st_ino || st.st_rdev != l.st.st_rdev)) {
		close(fd);
		fd = -1;
		e = ESTALE;
	}
	if (by_name)
		*by_name = l.by_name;
	lookup_done(&l);
	if (fd < 0)
		return err_at(image, "%s \"%s\": %s", kinds[kind].name, name,
			      e == ESTALE ? "changed while being opened" : strerror(e));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return image_open_fd(im, r->path, fd);
}

int ref_peek(const struct vd_policy *p, const char *image, const char *name,
	     void *buf, size_t len)
{
	struct vd_ref r = { 0 };
	struct lookup l;
	struct stat st;
	int fd = -1, ret = -1;

	lookup(p, image, name, &r, &l);
	if (r.found && !r.refused && S_ISREG(l.st.st_mode))
		fd = open_beneath(l.root, l.rel, O_RDONLY | O_NONBLOCK);
	/* The very node that was looked at, as ref_open() insists. */
	if (fd >= 0 && !fstat(fd, &st) && st.st_dev == l.st.st_dev &&
	    st.st_ino == l.st.st_ino && (uint64_t)st.st_size >= len)
		ret = pread_full(fd, buf, len, 0);
	if (fd >= 0)
		close(fd);
	lookup_done(&l);
	free(r.path);
	return ret;
}
