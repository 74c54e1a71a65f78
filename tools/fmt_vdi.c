// SPDX-License-Identifier: GPL-2.0
/*
 * VirtualBox VDI images in the helper; decoding is the core's
 * (dm-vdisk/core/vdi.c).
 *
 * A differencing image names its parent only by the parent's creation
 * UUID (VirtualBox finds it in its media registry).  The parent is the
 * .vdi file whose creation UUID is the image's link UUID, among the files
 * an --allow names, then the .vdi files in the image's own folder, each
 * looked at through the reference policy (tools/ref.c).  Two such files
 * in the folder are refused as ambiguous.
 *
 * The parent's modification UUID the child recorded (uuid_parent_modify)
 * is shown, not compared: VirtualBox does not compare it when it opens a
 * chain either (its media registry checks the parent's creation UUID).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image.h"
#include "vdi.h"

#define VDI_CHUNK	(256U << 10)	/* block map entries check reads at once */

struct vdi_priv {
	struct vdi v;
};

static bool vdi_probe(const uint8_t *buf, size_t len)
{
	return len >= 512 && get_unaligned_le32(buf + 0x40) == VDI_SIGNATURE;
}

/* VirtualBox's form: the first three fields are little-endian. */
static void uuid_str(const u8 *u, char *s)
{
	sprintf(s, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		get_unaligned_le32(u), get_unaligned_le16(u + 4),
		get_unaligned_le16(u + 6), u[8], u[9], u[10], u[11], u[12],
		u[13], u[14], u[15]);
}

/* Is @name a VDI whose creation UUID is @uuid? */
static bool vdi_is_parent(struct vd_image *im, const char *name, const u8 *uuid)
{
	const struct vdi_header *h;
	u8 buf[512];

	if (ref_peek(im->pol, im->path, name, buf, sizeof(buf)))
		return false;
	h = (const struct vdi_header *)buf;
	return get_unaligned_le32(&h->signature) == VDI_SIGNATURE &&
	       !memcmp(h->uuid_create, uuid, 16);
}

static int vdi_find_parent(struct vd_image *im, struct vdi_priv *p)
{
	const char *slash = strrchr(im->path, '/'), *self = base_name(im->path);
	char *dir = slash ? strndup(im->path, (size_t)(slash - im->path + 1)) :
			    xstrdup("./");
	char *pick = NULL, *second = NULL;
	struct dirent *de;
	unsigned int i;
	DIR *d;

	for (i = 0; im->pol && i < im->pol->n_allow && !pick; i++)
		if (!im->pol->allow_dir[i] && !im->pol->allow_rdev[i] &&
		    vdi_is_parent(im, im->pol->allow[i], p->v.uuid_link))
			pick = xstrdup(im->pol->allow[i]);
	d = pick ? NULL : opendir(*dir ? dir : "/");
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n < 5 || strcasecmp(de->d_name + n - 4, ".vdi") ||
		    !strcmp(de->d_name, self) ||
		    !vdi_is_parent(im, de->d_name, p->v.uuid_link))
			continue;
		if (!pick)
			pick = xstrdup(de->d_name);
		else if (!second)
			second = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	free(dir);
	if (second && !(im->pol && im->pol->lenient)) {
		err_at(im->path, "parent UUID %s: both %s and %s have it (name one with --allow)",
		       im->ident.parent_id, pick, second);
		free(pick);
		free(second);
		return -1;
	}
	free(second);
	if (!pick) {
		/* VirtualBox names a snapshot's image {UUID}.vdi: say where we looked. */
		if (asprintf(&pick, "{%s}.vdi", im->ident.parent_id) < 0) {
			err_at(im->path, "out of memory");
			exit(1);
		}
	}
	im->ident.parent_name = pick;
	return 0;
}

static int vdi_open(struct vd_image *im)
{
	struct vdi_priv *p = xcalloc(1, sizeof(*p));
	u8 hdr[512];
	const char *why;

	im->priv = p;
	if (image_read(im, hdr, sizeof(hdr), 0, "VDI header"))
		return -1;
	if (vdi_parse_header(hdr, im->sectors, &p->v, &why))
		return err_at(im->path, "%s", why);
	im->capacity = p->v.capacity;
	im->io_sectors = VDI_BLOCK_SECTORS;
	im->subformat = p->v.type == VDI_TYPE_FIXED ? "fixed" :
			p->v.type == VDI_TYPE_DIFF ? "differencing" : "dynamic";
	im->ident.id_kind = "UUID";
	im->ident.guid = true;
	uuid_str(p->v.uuid_create, im->ident.id);
	if (p->v.type != VDI_TYPE_DIFF)
		return 0;
	uuid_str(p->v.uuid_link, im->ident.parent_id);
	im->ident.parent_fmt = "vdi";
	return vdi_find_parent(im, p);
}

static void vdi_close(struct vd_image *im)
{
	free(im->priv);
	im->priv = NULL;
}

static void vdi_info(struct vd_image *im, struct kv_out *o)
{
	const struct vdi *v = &((struct vdi_priv *)im->priv)->v;
	char s[40];

	kv_u64(o, "block_size", VDI_BLOCK_BYTES);
	kv_u64(o, "blocks", v->blocks);
	kv_u64(o, "blocks_allocated", v->allocated);
	kv_u64(o, "block_map_offset", v->bmap_pos);
	kv_u64(o, "data_offset", v->data_sector * 512);
	uuid_str(v->uuid_modify, s);
	kv_str(o, "uuid_modify", s);
	if (v->type == VDI_TYPE_DIFF) {
		uuid_str(v->uuid_parent_modify, s);
		kv_str(o, "uuid_parent_modify", s);
	}
}

static int vdi_map_sector(struct vd_image *im, uint64_t vsec,
			  struct vdisk_mapping *m)
{
	struct vdi_priv *p = im->priv;

	return vdi_map(&p->v, vsec, image_read_fn, im, m);
}

static void vdi_check(struct vd_image *im, struct vd_check *c)
{
	const struct vdi *v = &((struct vdi_priv *)im->priv)->v;
	__le32 *map = xmalloc(VDI_CHUNK * 4);
	/* Which block indexes are taken: the map fits the file, so this does. */
	u8 *used = xcalloc(v->blocks / 8 + 1, 1);
	uint32_t i, j, n, data = 0;
	u64 sector;

	c->total = v->blocks;
	for (i = 0; i < v->blocks; i += n) {
		n = v->blocks - i < VDI_CHUNK ? v->blocks - i : VDI_CHUNK;
		if (pread_full(im->fd, map, (size_t)n * 4, v->bmap_pos + (u64)i * 4)) {
			check_error(c, "cannot read the block map");
			break;
		}
		for (j = 0; j < n; j++) {
			u32 e = le32_to_cpu(map[j]);

			switch (vdi_decode_entry(v, e, &sector)) {
			case VDISK_DATA:
				data++;
				c->allocated++;
				if (used[e / 8] & (1U << (e % 8)))
					check_error(c, "block %u: block index %u is used twice",
						    i + j, e);
				used[e / 8] |= 1U << (e % 8);
				break;
			case VDISK_ZERO:
				c->zero++;
				break;
			case VDISK_CORRUPT:
				check_error(c, "block %u: bad block map entry %#x (past %s)",
					    i + j, e, e >= v->blocks ? "the block count" :
					    "the end of the file");
				c->allocated++;
				data++;
				break;
			default:
				break;
			}
		}
	}
	if (data != v->allocated)
		check_warn(c, "header says %u blocks are allocated, the block map %u",
			   v->allocated, data);
	if (v->bmap_pos + (u64)v->blocks * 4 > v->data_sector * 512 && data)
		check_error(c, "block map overlaps the data blocks");
	free(used);
	free(map);
}

const struct vd_format vd_vdi_format = {
	.name = "vdi",
	.probe = vdi_probe,
	.open = vdi_open,
	.info = vdi_info,
	.check = vdi_check,
	.map = vdi_map_sector,
	.close = vdi_close,
};
