// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/vdisktab (vdisktab(5)): images to map at boot, one per line, read
 * by "vdisk attach" and by the systemd generator, so both agree on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk.h"
#include "image.h"
#include "tab.h"
#include "util.h"

const char *tab_path(void)
{
	const char *p = getenv("VDISKTAB");

	return p && *p ? p : VDISKTAB;
}

/* Unit names take these as they are; dm names may hold more. */
static bool name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-");

	return n && !s[n] && n < sizeof(((struct tab_entry *)0)->name) &&
	       s[0] != '.' && s[0] != '-' && strcmp(s, "control");
}

/* Characters a unit file would have to quote: refused in paths. */
static bool path_ok(const char *s)
{
	return s[0] == '/' && !strpbrk(s, "\\\"'");
}

static int bad(const char *path, const struct tab_entry *e, const char *fmt, ...)
	__printf(3, 4);

static int bad(const char *path, const struct tab_entry *e, const char *fmt, ...)
{
	char where[4200], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e->name[0])
		snprintf(where, sizeof(where), "%s:%u (%s)", path, e->line, e->name);
	else
		snprintf(where, sizeof(where), "%s:%u", path, e->line);
	return err_at(where, "%s", msg);
}

/* The options field, comma-separated, into @e. */
static int parse_opts(const char *path, struct tab_entry *e, const char *field)
{
	char *o, *next, *v;

	if (!strcmp(field, "-") || !strcmp(field, "none") || !strcmp(field, "defaults"))
		return 0;
	if (strlen(field) >= sizeof(e->opts))
		return bad(path, e, "options too long");
	strcpy(e->opts, field);
	for (o = e->opts; o; o = next) {
		next = strchr(o, ',');
		if (next)
			*next++ = 0;
		v = strchr(o, '=');
		if (v)
			*v++ = 0;
		if (!strcmp(o, "nofail") && !v) {
			e->nofail = true;
		} else if (!strcmp(o, "noauto") && !v) {
			e->noauto = true;
		} else if (!strcmp(o, "_netdev") && !v) {
			e->netdev = true;
		} else if (!strcmp(o, "no-partitions") && !v) {
			e->no_partitions = true;
		} else if (!strcmp(o, "no-parent") && !v) {
			e->no_parent = true;
		} else if (!strcmp(o, "overlay") && v && *v) {
			if (strcmp(v, "ram") && strncmp(v, "ram:", 4) && !path_ok(v))
				return bad(path, e,
					   "overlay=%s: not ram, ram:SIZE or an absolute path", v);
			e->overlay = v;
		} else if (!strcmp(o, "format") && v && *v) {
			if (!vd_format_known(v))
				return bad(path, e, "format=%s: unknown format", v);
			e->format = v;
		} else if (!strcmp(o, "allow") && v && *v) {
			if (!path_ok(v))
				return bad(path, e, "allow=%s: not an absolute path", v);
			if (e->nallow == TAB_MAX_ALLOW)
				return bad(path, e, "more than %d allow= options", TAB_MAX_ALLOW);
			e->allow[e->nallow++] = v;
		} else if (!*o) {
			return bad(path, e, "empty option");
		} else {
			return bad(path, e, "unknown option \"%s%s%s\"", o,
				   v ? "=" : "", v ? v : "");
		}
	}
	return 0;
}

/*
 * Line @buf (number @n) into @e.  1 for a blank line or a comment, 0 for a
 * good line, -1 (reported) for a bad one; e->name is set if the name was
 * good, so the generator can still give the line its failing unit.
 */
static int parse_line(const char *path, char *buf, unsigned int n, struct tab_entry *e)
{
	static const char ws[] = " \t\r\n";
	char *f[4], *save = NULL;
	int i;

	memset(e, 0, sizeof(*e));
	e->line = n;
	for (i = 0; i < 4; i++)
		f[i] = strtok_r(i ? NULL : buf, ws, &save);
	if (!f[0] || f[0][0] == '#')
		return 1;
	if (!name_ok(f[0]))
		return bad(path, e,
			   "\"%s\" is not a name for a device (letters, digits, _ . : -)",
			   f[0]);
	strcpy(e->name, f[0]);
	if (!f[1])
		return bad(path, e, "no image");
	if (f[3])
		return bad(path, e, "more than three fields");
	if (!path_ok(f[1]) || strlen(f[1]) >= sizeof(e->image))
		return bad(path, e, "image \"%s\" is not an absolute path", f[1]);
	strcpy(e->image, f[1]);
	return f[2] ? parse_opts(path, e, f[2]) : 0;
}

/* fgets, but a line longer than @len is an error and is skipped whole. */
static int get_line(char *buf, int len, FILE *f)
{
	size_t l;
	int c;

	if (!fgets(buf, len, f))
		return 0;
	l = strlen(buf);
	if (l + 1 < (size_t)len || buf[l - 1] == '\n')
		return 1;
	while ((c = getc(f)) != EOF && c != '\n')
		;
	return -1;
}

int tab_find(const char *path, const char *name, struct tab_entry *e)
{
	char buf[8192], first[128];
	unsigned int n = 0;
	FILE *f = fopen(path, "re");
	int r;

	if (!f)
		return err_at(path, "%s", strerror(errno));
	while ((r = get_line(buf, sizeof(buf), f))) {
		n++;
		if (r < 0 || sscanf(buf, " %127s", first) != 1 || strcmp(first, name))
			continue;
		r = parse_line(path, buf, n, e);
		fclose(f);
		return r;
	}
	fclose(f);
	return err_at(path, "no line for %s", name);
}

/* mkdir -p of the folder of @path. */
static int mkdir_parents(char *path)
{
	char *s = path;

	while ((s = strchr(s + 1, '/'))) {
		*s = 0;
		if (mkdir(path, 0755) && errno != EEXIST) {
			err_at(path, "cannot make folder: %s", strerror(errno));
			*s = '/';
			return -1;
		}
		*s = '/';
	}
	return 0;
}

/* The unit name of device node /dev/mapper/@dm, as systemd escapes it. */
static void device_unit(char *out, size_t len, const char *dm)
{
	size_t o = (size_t)snprintf(out, len, "dev-mapper-");

	for (; *dm && o + 5 < len; dm++) {
		if (*dm == '-')
			o += (size_t)snprintf(out + o, len - o, "\\x2d");
		else
			out[o++] = *dm;
	}
	out[o] = 0;
}

/* Where the package put the template (an admin's copy first). */
static const char *template_path(void)
{
	static const char * const templates[] = {
		"/etc/systemd/system/vdisk@.service",
		"/usr/lib/systemd/system/vdisk@.service",
		"/lib/systemd/system/vdisk@.service",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(templates); i++)
		if (!access(templates[i], F_OK))
			return templates[i];
	return templates[1];
}

/* @dir/@unit@suffix.@kind/vdisk@@name.service, a link to @tmpl. */
static int link_unit(const char *dir, const char *unit, const char *suffix,
		     const char *kind, const char *name, const char *tmpl)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s%s.%s/vdisk@%s.service", dir, unit, suffix,
		 kind, name);
	if (mkdir_parents(path))
		return -1;
	if (symlink(tmpl, path) && errno != EEXIST)
		return err_at(path, "cannot link: %s", strerror(errno));
	return 0;
}

/* A path for a unit file: % is systemd's specifier character. */
static void put_path(FILE *f, const char *key, const char *p)
{
	fprintf(f, "%s=", key);
	for (; *p; p++)
		fputs(*p == '%' ? "%%" : (char[]){ *p, 0 }, f);
	fputc('\n', f);
}

/*
 * Partitions of @e that /etc/fstab names (/dev/mapper/NAMEpN): the devices
 * whose mounts must wait for, and be unmounted before, the unit.
 */
static int fstab_parts(const struct tab_entry *e, char parts[][112], int max)
{
	const char *p = getenv("SYSTEMD_FSTAB");
	char buf[8192], dev[4096];
	size_t len = strlen(e->name);
	FILE *f = fopen(p && *p ? p : "/etc/fstab", "re");
	const char *s;
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(buf, sizeof(buf), f)) {
		if (sscanf(buf, " %4095s", dev) != 1 || strncmp(dev, "/dev/mapper/", 12))
			continue;
		s = dev + 12;
		if (strncmp(s, e->name, len) || s[len] != 'p' || !s[len + 1] ||
		    strspn(s + len + 1, "0123456789") != strlen(s + len + 1) ||
		    strlen(s) >= 112)
			continue;
		memcpy(parts[n++], s, strlen(s) + 1);
	}
	fclose(f);
	return n;
}

/* The drop-in and links for line @e; @good is false if it is a bad line. */
static int generate_one(const char *dir, const char *path, const struct tab_entry *e,
			bool good)
{
	char file[4200], parts[16][112], units[17][512];
	const char *target = e->netdev ? "remote-fs.target" : "local-fs.target";
	const char *tmpl = template_path();
	int nparts = good ? fstab_parts(e, parts, 16) : 0, i;
	FILE *f;

	/* units[0]: the disk's device; then the partitions fstab mounts. */
	device_unit(units[0], sizeof(units[0]), e->name);
	for (i = 0; i < nparts; i++)
		device_unit(units[i + 1], sizeof(units[i + 1]), parts[i]);

	snprintf(file, sizeof(file), "%s/vdisk@%s.service.d/vdisktab.conf", dir, e->name);
	if (mkdir_parents(file))
		return -1;
	f = fopen(file, "we");
	if (!f)
		return err_at(file, "%s", strerror(errno));
	fprintf(f, "# Made by the vdisk generator from %s, line %u.\n[Unit]\n",
		path, e->line);
	put_path(f, "SourcePath", path);
	if (good) {
		put_path(f, "RequiresMountsFor", e->image);
		if (e->overlay && e->overlay[0] == '/')
			put_path(f, "RequiresMountsFor", e->overlay);
		if (e->netdev)
			fprintf(f, "After=remote-fs-pre.target network-online.target\n"
				"Wants=network-online.target\n");
		if (!e->nofail && !e->noauto)
			fprintf(f, "Before=%s\n", target);
	}
	for (i = 0; i <= nparts; i++)
		fprintf(f, "Wants=blockdev@%s.target\nBefore=blockdev@%s.target\n",
			units[i], units[i]);
	if (fclose(f))
		return err_at(file, "%s", strerror(errno));

	for (i = 0; i <= nparts; i++)
		if (link_unit(dir, units[i], ".device", "requires", e->name, tmpl))
			return -1;
	if (!e->noauto && link_unit(dir, target, "", "wants", e->name, tmpl))
		return -1;
	return 0;
}

int tab_generate(const char *path, const char *dir)
{
	char buf[8192], (*seen)[100] = NULL;
	struct tab_entry *e = xmalloc(sizeof(*e));
	unsigned int n = 0, nseen = 0, i;
	FILE *f = fopen(path, "re");
	int r = 0, t;

	if (!f) {
		free(e);
		/* No vdisktab is the common case: nothing to do. */
		return errno == ENOENT ? 0 : err_at(path, "%s", strerror(errno));
	}
	while (!r && (t = get_line(buf, sizeof(buf), f))) {
		memset(e, 0, sizeof(*e));
		e->line = ++n;
		if (t < 0) {
			bad(path, e, "line too long");
			continue;
		}
		t = parse_line(path, buf, n, e);
		if (t > 0 || !e->name[0])
			continue;
		for (i = 0; i < nseen && strcmp(seen[i], e->name); i++)
			;
		if (i < nseen) {
			bad(path, e, "a second line for %s: ignored", e->name);
			continue;
		}
		seen = xrealloc(seen, nseen + 1, sizeof(*seen));
		strcpy(seen[nseen++], e->name);
		r = generate_one(dir, path, e, t == 0);
	}
	fclose(f);
	free(seen);
	free(e);
	return r;
}
