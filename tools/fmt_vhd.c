// SPDX-License-Identifier: GPL-2.0
/*
 * VHD (qemu's "vpc") in the helper; decoding is the core's
 * (dm-vdisk/core/vhd.c), so the helper sees what the kernel sees.  A
 * differencing disk's parent is found through its parent locators.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "image.h"
#include "vhd.h"

struct vhd_priv {
	struct vhd v;
	struct vhd_footer footer;
	struct vhd_dyn_header dh;
	char *parent_name;		/* the header's name field, UTF-8 */
	char *locs[VHD_LOCATORS];	/* each locator's path, UTF-8 */
};

static bool vhd_probe(const uint8_t *buf, size_t len)
{
	return len >= 8 && vhd_footer_cookie(buf);
}

/* A fixed disk has its only footer in the last 512 bytes. */
static bool vhd_probe_file(struct vd_image *im)
{
	struct vhd_footer f;

	if (im->size < 2 * VHD_FOOTER_BYTES ||
	    pread_full(im->fd, &f, sizeof(f), im->size - sizeof(f)))
		return false;
	return vhd_footer_cookie(&f) && be32_to_cpu(f.disk_type) == VHD_TYPE_FIXED;
}

static void uuid_str(const u8 *u, char *out, size_t len)
{
	snprintf(out, len,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* A "file://host/path" URL's path, %XX decoded; NULL if not such a URL. */
static char *file_url_path(const u8 *s, size_t len)
{
	char *url = strndup((const char *)s, len), *p, *out, *o;

	if (!url || strncmp(url, "file://", 7)) {
		free(url);
		return NULL;
	}
	p = strchr(url + 7, '/');
	out = xmalloc(strlen(url) + 1);
	o = out;
	for (; p && *p; p++) {
		unsigned int x;

		if (*p == '%' && sscanf(p + 1, "%2x", &x) == 1 && x) {
			*o++ = (char)x;
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	free(url);
	return out;
}

static bool vhd_loc_known(u32 code)
{
	return code == VHD_PLAT_W2RU || code == VHD_PLAT_W2KU || code == VHD_PLAT_MACX;
}

/*
 * The parent as a path next to the child: a relative locator as written
 * (Windows separators turned round), an absolute one by its file name.
 */
static char *candidate(u32 code, const char *path)
{
	char *s = strdup(path), *c;

	if (!s)
		return NULL;
	for (c = s; *c; c++)
		if (*c == '\\')
			*c = '/';
	if (code != VHD_PLAT_W2RU) {
		c = strrchr(s, '/');
		if (c)
			memmove(s, c + 1, strlen(c + 1) + 1);
	}
	/* Windows writes ".\\parent.vhd"; the folder is implied. */
	while (!strncmp(s, "./", 2) && s[2])
		memmove(s, s + 2, strlen(s + 2) + 1);
	return s;
}

/* Relative locators first, then absolute ones; the first usable wins. */
static int read_locators(struct vd_image *im, struct vhd_priv *p)
{
	static const u32 order[] = { VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX };
	char *pick = NULL;
	unsigned int i, k;

	for (i = 0; i < VHD_LOCATORS; i++) {
		const struct vhd_locator *l = &p->dh.loc[i];
		u32 code = be32_to_cpu(l->platform_code);
		u32 len = be32_to_cpu(l->data_length);
		u64 off = be64_to_cpu(l->data_offset);
		u8 *buf;

		if (!vhd_loc_known(code) || !len)
			continue;
		if (len > VHD_MAX_LOCATOR)
			return err_at(im->path, "parent locator %u is %u bytes long", i, len);
		buf = xmalloc(len);
		if (image_read(im, buf, len, off, "parent locator")) {
			free(buf);
			return -1;
		}
		p->locs[i] = code == VHD_PLAT_MACX ? file_url_path(buf, len) :
			     utf16_to_utf8(buf, len, false, true);
		free(buf);
		if (!p->locs[i] || !*p->locs[i])
			return err_at(im->path, "parent locator %u is not a valid path", i);
	}
	for (k = 0; k < ARRAY_SIZE(order); k++) {
		for (i = 0; i < VHD_LOCATORS; i++) {
			char *cand;
			bool found;

			if (!p->locs[i] || be32_to_cpu(p->dh.loc[i].platform_code) != order[k])
				continue;
			cand = candidate(order[k], p->locs[i]);
			if (!cand || !*cand) {
				free(cand);
				continue;
			}
			found = ref_usable(im->pol, im->path, cand);
			if (found || !pick) {
				free(pick);
				pick = cand;
			} else {
				free(cand);
			}
			if (found)
				goto done;
		}
	}
done:
	if (!pick)
		return err_at(im->path, "differencing VHD has no parent locator");
	im->ident.parent_name = pick;
	return 0;
}

static int vhd_open(struct vd_image *im)
{
	struct vhd_priv *p = xcalloc(1, sizeof(*p));
	struct vhd *v = &p->v;
	bool at_end = false;
	const char *why;

	im->priv = p;
	if (image_read(im, &p->footer, sizeof(p->footer), 0, "VHD footer"))
		return -1;
	if (!vhd_footer_cookie(&p->footer)) {
		at_end = true;
		if (image_read(im, &p->footer, sizeof(p->footer),
			       im->size - sizeof(p->footer), "VHD footer"))
			return -1;
	}
	if (vhd_parse_footer(&p->footer, at_end, im->size, v, &why))
		return err_at(im->path, "%s", why);
	im->capacity = v->capacity;
	uuid_str(v->unique_id, im->ident.id, sizeof(im->ident.id));
	im->ident.id_kind = "unique id";
	im->ident.guid = true;
	if (v->type == VHD_TYPE_FIXED) {
		im->io_sectors = 1U << 11;
		im->subformat = "fixed";
		return 0;
	}
	if (image_read(im, &p->dh, sizeof(p->dh), v->header_offset, "VHD dynamic header"))
		return -1;
	if (vhd_parse_dyn_header(&p->dh, v, &why))
		return err_at(im->path, "%s", why);
	im->io_sectors = 1U << v->block_shift;
	im->subformat = "dynamic";
	if (v->type != VHD_TYPE_DIFFERENCING)
		return 0;
	im->subformat = "differencing";
	p->parent_name = utf16_to_utf8((const u8 *)p->dh.parent_name,
				       sizeof(p->dh.parent_name), true, true);
	uuid_str(v->parent_uuid, im->ident.parent_id, sizeof(im->ident.parent_id));
	return read_locators(im, p);
}

static void vhd_close(struct vd_image *im)
{
	struct vhd_priv *p = im->priv;
	unsigned int i;

	if (p) {
		free(p->parent_name);
		for (i = 0; i < VHD_LOCATORS; i++)
			free(p->locs[i]);
	}
	free(p);
	im->priv = NULL;
}

static const char *loc_code_name(u32 code)
{
	return code == VHD_PLAT_W2RU ? "W2ru" : code == VHD_PLAT_W2KU ? "W2ku" : "MacX";
}

static void vhd_info(struct vd_image *im, struct kv_out *o)
{
	struct vhd_priv *p = im->priv;
	const struct vhd *v = &p->v;
	const struct vhd_footer *f = &p->footer;
	char key[32], g[40];
	unsigned int i;

	kv_strn(o, "creator_app", (const char *)f->creator_app,
		strnlen((const char *)f->creator_app, 4));
	kv_strn(o, "creator_os", (const char *)f->creator_os,
		strnlen((const char *)f->creator_os, 4));
	kv_u64(o, "creator_major", be16_to_cpu(f->creator_major));
	kv_u64(o, "creator_minor", be16_to_cpu(f->creator_minor));
	kv_u64(o, "current_size", v->current_size);
	kv_u64(o, "cylinders", be16_to_cpu(f->cylinders));
	kv_u64(o, "heads", f->heads);
	kv_u64(o, "sectors_per_track", f->sectors_per_track);
	kv_str(o, "size_from", v->size_from_chs ? "chs" : "current_size");
	kv_str(o, "unique_id", im->ident.id);
	kv_bool(o, "saved_state", f->saved_state);
	if (v->type == VHD_TYPE_FIXED)
		return;
	kv_u64(o, "block_size", v->block_size);
	kv_u64(o, "bitmap_size", v->bitmap_bytes);
	kv_u64(o, "bat_offset", v->bat_offset);
	kv_u64(o, "bat_entries", v->bat_entries);
	if (v->type != VHD_TYPE_DIFFERENCING)
		return;
	uuid_str(v->parent_uuid, g, sizeof(g));
	kv_str(o, "parent_uuid", g);
	if (p->parent_name)
		kv_str(o, "parent_name_field", p->parent_name);
	for (i = 0; i < VHD_LOCATORS; i++) {
		if (!p->locs[i])
			continue;
		snprintf(key, sizeof(key), "locator_%s",
			 loc_code_name(be32_to_cpu(p->dh.loc[i].platform_code)));
		kv_str(o, key, p->locs[i]);
	}
}

static int vhd_map_sector(struct vd_image *im, uint64_t vsec, struct vdisk_mapping *m)
{
	struct vhd_priv *p = im->priv;

	return vhd_map(&p->v, vsec, image_read_fn, im, m);
}

static void vhd_check(struct vd_image *im, struct vd_check *c)
{
	struct vhd_priv *p = im->priv;
	const struct vhd *v = &p->v;
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	u64 b, used = vdisk_div_round_up_shift(v->capacity, v->block_shift);
	u32 *bat;

	if (v->type == VHD_TYPE_FIXED) {
		c->total = 1;
		c->allocated = 1;
		return;
	}
	c->total = used;
	ranges_add(&rs, 0, 1, "footer copy", 0);
	ranges_add(&rs, v->header_offset / 512, 2, "dynamic header", 0);
	ranges_add(&rs, v->bat_offset / 512, DIV_ROUND_UP((u64)v->bat_entries * 4, 512),
		   "BAT", 0);
	ranges_add(&rs, im->sectors - 1, 1, "footer", 0);
	bat = xmalloc((size_t)v->bat_entries * 4 + VHD_FOOTER_BYTES);
	if (image_read(im, bat, (size_t)v->bat_entries * 4, v->bat_offset, "BAT")) {
		check_error(c, "cannot read the BAT");
		goto out;
	}
	/* Every entry, as qemu checks them all when it opens the image. */
	for (b = 0; b < v->bat_entries; b++) {
		u32 e = be32_to_cpu(((__be32 *)bat)[b]);
		u64 sector;

		switch (vhd_decode_bat(v, e, &sector)) {
		case VDISK_DATA:
			if (b < used)
				c->allocated++;
			ranges_add(&rs, e, (v->bitmap_bytes + (u64)v->block_size) / 512,
				   "block", b);
			break;
		case VDISK_UNALLOCATED:
			break;
		default:
			check_error(c, "block %llu lies past the end of the file (BAT entry %#x)",
				    (unsigned long long)b, e);
		}
	}
	if (image_read(im, bat, VHD_FOOTER_BYTES, im->size - VHD_FOOTER_BYTES, "footer"))
		check_error(c, "cannot read the footer at the end of the file");
	else if (memcmp(bat, &p->footer, VHD_FOOTER_BYTES))
		check_warn(c, "the footer at the end of the file differs from the copy at offset 0");
out:
	free(bat);
	ranges_check(&rs, c);
	ranges_free(&rs);
}

const struct vd_format vd_vhd_format = {
	.name = "vhd",
	.probe = vhd_probe,
	.open = vhd_open,
	.info = vhd_info,
	.check = vhd_check,
	.map = vhd_map_sector,
	.close = vhd_close,
	.probe_file = vhd_probe_file,
};
