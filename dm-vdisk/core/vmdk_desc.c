// SPDX-License-Identifier: GPL-2.0
/*
 * VMDK descriptor parsing: "key = value" lines and extent lines of the form
 * ACCESS SECTORS TYPE ["file" [OFFSET]].  LF or CRLF line ends; text ends at
 * the first NUL (embedded descriptors are NUL-padded).
 */
#include "vmdk_desc.h"

static const char * const access_names[] = {
	[VMDK_ACCESS_RW] = "RW",
	[VMDK_ACCESS_RDONLY] = "RDONLY",
	[VMDK_ACCESS_NOACCESS] = "NOACCESS",
};

static const char * const type_names[] = {
	[VMDK_EXTENT_FLAT] = "FLAT",
	[VMDK_EXTENT_SPARSE] = "SPARSE",
	[VMDK_EXTENT_ZERO] = "ZERO",
	[VMDK_EXTENT_VMFS] = "VMFS",
	[VMDK_EXTENT_VMFSSPARSE] = "VMFSSPARSE",
	[VMDK_EXTENT_VMFSRDM] = "VMFSRDM",
	[VMDK_EXTENT_VMFSRAW] = "VMFSRAW",
	[VMDK_EXTENT_SESPARSE] = "SESPARSE",
};

const char *vmdk_extent_type_name(enum vmdk_extent_type t)
{
	return (unsigned int)t < ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

const char *vmdk_access_name(enum vmdk_access a)
{
	return (unsigned int)a < ARRAY_SIZE(access_names) ? access_names[a] : "?";
}

bool vmdk_str_eq(struct vmdk_str s, const char *lit)
{
	return s.p && strlen(lit) == s.len && !memcmp(s.p, lit, s.len);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static struct vmdk_str trim(const char *p, const char *end)
{
	struct vmdk_str s;

	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	s.p = p;
	s.len = (u32)(end - p);
	return s;
}

/* Next whitespace-separated word of @s, consumed from it. */
static struct vmdk_str next_word(struct vmdk_str *s)
{
	const char *p = s->p, *end = s->p + s->len, *w;

	while (p < end && is_space(*p))
		p++;
	w = p;
	while (p < end && !is_space(*p))
		p++;
	s->len = (u32)(end - p);
	s->p = p;
	return (struct vmdk_str){ .p = w, .len = (u32)(p - w) };
}

static int parse_u64(struct vmdk_str s, unsigned int base, u64 *out)
{
	u64 v = 0;
	u32 i;

	if (!s.len)
		return -EINVAL;
	for (i = 0; i < s.len; i++) {
		char c = s.p[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		if (check_mul_overflow(v, (u64)base, &v) ||
		    check_add_overflow(v, (u64)d, &v))
			return -ERANGE;
	}
	*out = v;
	return 0;
}

static int lookup(const char * const *names, unsigned int n, struct vmdk_str w)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vmdk_str_eq(w, names[i]))
			return (int)i;
	return -1;
}

static int parse_extent(struct vmdk_str line, struct vmdk_extent_line *e,
			const char **why)
{
	struct vmdk_str w;
	int v;

	memset(e, 0, sizeof(*e));
	v = lookup(access_names, ARRAY_SIZE(access_names), next_word(&line));
	if (v < 0)
		return vdisk_bad(why, "bad extent access mode", -EINVAL);
	e->access = (enum vmdk_access)v;

	if (parse_u64(next_word(&line), 10, &e->sectors) ||
	    e->sectors > VDISK_MAX_SECTORS)
		return vdisk_bad(why, "bad extent size", -EINVAL);

	v = lookup(type_names, ARRAY_SIZE(type_names), next_word(&line));
	if (v < 0)
		return vdisk_bad(why, "unknown extent type", -EINVAL);
	e->type = (enum vmdk_extent_type)v;

	line = trim(line.p, line.p + line.len);
	if (!line.len) {
		if (e->type != VMDK_EXTENT_ZERO)
			return vdisk_bad(why, "extent has no file name", -EINVAL);
		return 0;
	}
	if (line.p[0] != '"')
		return vdisk_bad(why, "extent file name is not quoted", -EINVAL);
	w.p = line.p + 1;
	w.len = 0;
	while (w.len < line.len - 1 && w.p[w.len] != '"')
		w.len++;
	/* "" is left to the caller: FreeBSD's mkimg writes it for "this file". */
	if (w.len == line.len - 1)
		return vdisk_bad(why, "extent file name is not quoted", -EINVAL);
	e->file = w;

	line.p = w.p + w.len + 1;
	line.len -= w.len + 2;
	w = next_word(&line);
	if (w.len && parse_u64(w, 10, &e->offset))
		return vdisk_bad(why, "bad extent offset", -EINVAL);
	if (trim(line.p, line.p + line.len).len)
		return vdisk_bad(why, "trailing text after extent offset", -EINVAL);
	return 0;
}

static int parse_pair(struct vmdk_str key, struct vmdk_str val,
		      struct vmdk_desc *d, const char **why)
{
	u64 v;

	if (val.len >= 2 && val.p[0] == '"' && val.p[val.len - 1] == '"') {
		val.p++;
		val.len -= 2;
	}
	if (vmdk_str_eq(key, "createType")) {
		d->create_type = val;
	} else if (vmdk_str_eq(key, "parentFileNameHint")) {
		d->parent_hint = val;
	} else if (vmdk_str_eq(key, "CID") || vmdk_str_eq(key, "parentCID")) {
		if (parse_u64(val, 16, &v) || v > U32_MAX)
			return vdisk_bad(why, "bad CID", -EINVAL);
		if (key.len == 3) {
			d->cid = (u32)v;
			d->has_cid = true;
		} else {
			d->parent_cid = (u32)v;
			d->has_parent_cid = true;
		}
	}
	return 0;
}

/*
 * Parse @len bytes of descriptor text into @d.  On failure *bad_line is the
 * 1-based number of the offending line (0 if none) and *why says what.
 */
int vmdk_parse_descriptor(const char *text, size_t len, struct vmdk_desc *d,
			  u32 *bad_line, const char **why)
{
	struct vmdk_extent_line *room = d->extents;
	u32 max = d->max_extents, lineno = 0;
	const char *p = text, *end;
	int ret;

	memset(d, 0, sizeof(*d));
	d->extents = room;
	d->max_extents = max;
	*bad_line = 0;
	*why = NULL;

	if (len > VMDK_DESC_MAX_BYTES)
		return vdisk_bad(why, "descriptor is larger than 1 MiB", -EFBIG);
	end = memchr(text, '\0', len);
	if (!end)
		end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p);
		const char *eol = nl ? nl : end;
		struct vmdk_str line = trim(p, eol), key;
		const char *eq;

		lineno++;
		p = nl ? nl + 1 : end;
		if (!line.len || line.p[0] == '#')
			continue;

		/* Extent lines are the ones that start with an access mode. */
		key = line;
		if (lookup(access_names, ARRAY_SIZE(access_names),
			   next_word(&key)) >= 0) {
			struct vmdk_extent_line e;

			ret = parse_extent(line, &e, why);
			if (ret)
				goto fail;
			if (check_add_overflow(d->total_sectors, e.sectors,
					       &d->total_sectors) ||
			    d->total_sectors > VDISK_MAX_SECTORS) {
				*why = "extents add up to more than 512 PiB";
				ret = -EFBIG;
				goto fail;
			}
			if (d->n_extents < d->max_extents)
				d->extents[d->n_extents] = e;
			d->n_extents++;
			continue;
		}

		eq = memchr(line.p, '=', line.len);
		if (!eq || eq == line.p) {
			*why = "not a VMDK descriptor line";
			ret = -EINVAL;
			goto fail;
		}
		key = trim(line.p, eq);
		ret = parse_pair(key, trim(eq + 1, line.p + line.len), d, why);
		if (ret)
			goto fail;
	}
	if (!d->n_extents && !d->create_type.p) {
		*why = "descriptor has no createType and no extents";
		return -EINVAL;
	}
	return 0;
fail:
	*bad_line = lineno;
	return ret;
}
