// SPDX-License-Identifier: GPL-2.0
/*
 * VHDX in the helper; decoding, log replay included, is the core's
 * (dm-vdisk/core/vhdx.c), so the helper sees what the kernel sees.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "disk.h"
#include "image.h"
#include "vhdx.h"

struct vhdx_priv {
	struct vhdx v;
	struct vhdx_log_seq seq;
	struct vhdx_overlay *ov;
	u8 *pages;
	u8 *locator;
	char linkage[80];		/* parent_linkage as written */
	char *paths[3];			/* relative, volume, absolute */
};

static const char *const vhdx_path_keys[] = {
	"relative_path", "volume_path", "absolute_win32_path",
};

static bool vhdx_probe(const uint8_t *buf, size_t len)
{
	return len >= 8 && get_unaligned_le64(buf) == VHDX_FILE_SIGNATURE;
}

/* GUIDs as Windows writes them: {xxxxxxxx-xxxx-...}, mixed endian. */
static void guid_str(const u8 *g, char *out, size_t len)
{
	snprintf(out, len,
		 "{%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x}",
		 get_unaligned_le32(g), get_unaligned_le16(g + 4),
		 get_unaligned_le16(g + 6), g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}

static char *locator_value(struct vhdx_priv *p, const char *key)
{
	u32 len, off = vhdx_locator_find(p->locator, p->v.locator_length, key, &len);

	return off ? utf16_to_utf8(p->locator + off, len, false, false) : NULL;
}

/* A Windows path as a path next to the child: "..\x" -> "../x". */
static char *unix_path(const char *win, bool basename_only)
{
	char *s = strdup(win), *c;

	if (!s)
		return NULL;
	for (c = s; *c; c++)
		if (*c == '\\')
			*c = '/';
	c = basename_only ? strrchr(s, '/') : NULL;
	if (c)
		memmove(s, c + 1, strlen(c + 1) + 1);
	return s;
}

/*
 * The parent, as the locator names it: its relative path, else the file
 * name of the volume or absolute path, whichever is found next to the
 * child.  Missing all of them, the relative path is the one reported.
 */
static int read_locator(struct vd_image *im, struct vhdx_priv *p)
{
	struct vd_ident *id = &im->ident;
	char *linkage, *pick = NULL;
	const char *why;
	unsigned int i;

	p->locator = xmalloc(p->v.locator_length);
	if (image_read(im, p->locator, p->v.locator_length, p->v.locator_offset,
		       "parent locator"))
		return -1;
	if (vhdx_locator_check(p->locator, p->v.locator_length, &why))
		return err_at(im->path, "%s", why);
	linkage = locator_value(p, "parent_linkage");
	if (!linkage || strlen(linkage) >= sizeof(p->linkage)) {
		free(linkage);
		return err_at(im->path, "parent locator has no valid parent_linkage");
	}
	strcpy(p->linkage, linkage);
	free(linkage);
	for (i = 0; p->linkage[i]; i++)
		id->parent_id[i] = (char)tolower((unsigned char)p->linkage[i]);
	id->parent_id[i] = 0;

	for (i = 0; i < ARRAY_SIZE(vhdx_path_keys); i++)
		p->paths[i] = locator_value(p, vhdx_path_keys[i]);
	for (i = 0; i < ARRAY_SIZE(vhdx_path_keys); i++) {
		char *cand = p->paths[i] ? unix_path(p->paths[i], i > 0) : NULL;
		bool found;

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
			break;
	}
	if (!pick)
		return err_at(im->path, "parent locator names no parent file");
	id->parent_name = pick;
	return 0;
}

static int replay_log(struct vd_image *im, struct vhdx_priv *p)
{
	struct vhdx *v = &p->v;
	const char *why;
	u8 *log = xmalloc(v->log_length);
	void *scratch = NULL;
	int r = -1;

	if (image_read(im, log, v->log_length, v->log_offset, "log"))
		goto out;
	if (vhdx_log_find(v, log, &p->seq, &why)) {
		err_at(im->path, "log must be replayed: %s", why);
		goto out;
	}
	r = 0;
	if (!p->seq.entries)
		goto out;
	p->ov = xcalloc(vhdx_overlay_room(&p->seq), sizeof(*p->ov));
	p->pages = xmalloc(((size_t)p->seq.data_sectors ?: 1) * VHDX_LOG_SECTOR);
	scratch = xmalloc(vhdx_replay_scratch_bytes(&p->seq));
	if (vhdx_log_replay(v, log, &p->seq, p->ov, p->pages, scratch, &why))
		r = err_at(im->path, "log must be replayed: %s", why);
out:
	free(scratch);
	free(log);
	return r;
}

static int vhdx_open(struct vd_image *im)
{
	struct vhdx_priv *p = xcalloc(1, sizeof(*p));
	u8 *buf = xmalloc(VHDX_REGION_BYTES);
	struct vhdx *v = &p->v;
	const char *why;
	int r = -1;

	im->priv = p;
	/* Short files read as zeros here: the parser names what is missing. */
	if (pread_full(im->fd, buf, 8, 0) ||
	    pread_full(im->fd, buf + VHDX_HEADER_BYTES, VHDX_HEADER_BYTES,
		       VHDX_HEADER1_OFFSET) ||
	    pread_full(im->fd, buf + 2 * VHDX_HEADER_BYTES, VHDX_HEADER_BYTES,
		       VHDX_HEADER2_OFFSET)) {
		err_at(im->path, "cannot read the VHDX headers: %s", strerror(errno));
		goto out;
	}
	if (vhdx_parse_headers(buf, buf + VHDX_HEADER_BYTES, buf + 2 * VHDX_HEADER_BYTES,
			       im->size, v, &why)) {
		err_at(im->path, "%s", why);
		goto out;
	}
	if (!vhdx_guid_is_zero(v->log_guid) && replay_log(im, p))
		goto out;
	if (vhdx_parse_regions(v, image_read_fn, im, buf, &why)) {
		char g[40] = "";

		if (!vhdx_guid_is_zero(v->bad_guid))
			guid_str(v->bad_guid, g, sizeof(g));
		err_at(im->path, "%s%s%s", why, *g ? " " : "", g);
		goto out;
	}

	/* guid_str() writes lower case, as parent_id is compared. */
	guid_str(v->data_write_guid, im->ident.id, sizeof(im->ident.id));
	im->ident.id_kind = "data write GUID";
	im->ident.guid = true;
	if (v->has_parent && read_locator(im, p))
		goto out;

	im->capacity = v->disk_size >> 9;
	im->io_sectors = v->block_size >> 9;
	im->subformat = v->has_parent ? "differencing" :
		v->param_flags & VHDX_PARAM_LEAVE_BLOCKS_ALLOCATED ? "fixed" : "dynamic";
	r = 0;
out:
	free(buf);
	return r;
}

static int write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n <= 0)
			return -1;
		buf = (const u8 *)buf + n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Replay the log into the file, as Hyper-V would on opening it: the pages
 * in order, the file extended to the log's last file offset, then both
 * headers rewritten without the log GUID (and with a new file write GUID),
 * each made durable before the next step.
 */
static int vhdx_repair(struct vd_image *im)
{
	struct vhdx_priv *p = im->priv;
	const struct vhdx *v = &p->v;
	static const u8 zeros[VHDX_LOG_SECTOR];
	struct vhdx_header h;
	unsigned int i, slot;
	uint64_t off, end;
	int fd, urandom;

	if (vhdx_guid_is_zero(v->log_guid))
		return 0;
	fd = open(im->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_at(im->path, "cannot open for repair: %s", strerror(errno));
	for (i = 0; i < v->ov_n; i++)
		for (off = 0; off < v->ov[i].len; off += VHDX_LOG_SECTOR)
			if (write_all(fd, v->ov[i].data ? v->ov[i].data + off : zeros,
				      VHDX_LOG_SECTOR, v->ov[i].offset + off))
				goto fail;
	end = p->seq.last_file_offset;
	if (!im->is_blk && end > im->size && ftruncate(fd, (off_t)end))
		goto fail;
	if (fsync(fd) || pread_full(fd, &h, sizeof(h), v->header == 1 ?
				    VHDX_HEADER1_OFFSET : VHDX_HEADER2_OFFSET))
		goto fail;
	memset(h.log_guid, 0, sizeof(h.log_guid));
	urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (urandom < 0 || pread_full(urandom, h.file_write_guid, 16, 0)) {
		if (urandom >= 0)
			close(urandom);
		goto fail;
	}
	close(urandom);
	h.file_write_guid[7] = (h.file_write_guid[7] & 0x0f) | 0x40;	/* v4 */
	h.file_write_guid[8] = (h.file_write_guid[8] & 0x3f) | 0x80;
	/* The other copy first: a crash between the two leaves a valid one. */
	for (i = 1; i <= 2; i++) {
		slot = i == 1 ? 3 - v->header : v->header;
		h.sequence_number = cpu_to_le64(v->seq + i);
		h.checksum = 0;
		h.checksum = cpu_to_le32(~crc32c(~0U, &h, sizeof(h)));
		if (write_all(fd, &h, sizeof(h), slot == 1 ? VHDX_HEADER1_OFFSET :
			      VHDX_HEADER2_OFFSET) || fsync(fd))
			goto fail;
	}
	close(fd);
	printf("%s: log replayed into the file (%u entries, sequence %llu)\n", im->path,
	       p->seq.entries, (unsigned long long)p->seq.head_seq);
	return 0;
fail:
	err_at(im->path, "cannot replay the log into the file: %s", strerror(errno));
	close(fd);
	return -1;
}

static void vhdx_close(struct vd_image *im)
{
	struct vhdx_priv *p = im->priv;
	unsigned int i;

	if (p) {
		free(p->ov);
		free(p->pages);
		free(p->locator);
		for (i = 0; i < ARRAY_SIZE(p->paths); i++)
			free(p->paths[i]);
	}
	free(p);
	im->priv = NULL;
}

static void vhdx_info(struct vd_image *im, struct kv_out *o)
{
	struct vhdx_priv *p = im->priv;
	const struct vhdx *v = &p->v;
	char g[40];
	unsigned int i;

	kv_u64(o, "block_size", v->block_size);
	kv_u64(o, "logical_sector_size", v->logical_sector);
	kv_u64(o, "physical_sector_size", v->physical_sector);
	kv_bool(o, "leave_blocks_allocated",
		v->param_flags & VHDX_PARAM_LEAVE_BLOCKS_ALLOCATED);
	kv_bool(o, "has_parent", v->has_parent);
	kv_str(o, "data_write_guid", im->ident.id);
	guid_str(v->page83, g, sizeof(g));
	kv_str(o, "page83_id", g);
	kv_u64(o, "header", v->header);
	kv_u64(o, "header_sequence", v->seq);
	kv_bool(o, "header_copy_damaged", v->other_header_bad);
	kv_u64(o, "bat_entries", v->bat_entries);
	kv_u64(o, "chunk_ratio", v->chunk_ratio);
	if (vhdx_guid_is_zero(v->log_guid)) {
		kv_str(o, "log", "clean");
	} else {
		guid_str(v->log_guid, g, sizeof(g));
		kv_str(o, "log", p->seq.entries ? "replayed in memory" :
			"empty (nothing to replay)");
		kv_str(o, "log_guid", g);
		kv_u64(o, "log_entries", p->seq.entries);
		kv_u64(o, "log_sequence", p->seq.head_seq);
		kv_u64(o, "log_descriptors", p->seq.descriptors);
	}
	if (v->has_parent) {
		kv_str(o, "parent_linkage", p->linkage);
		for (i = 0; i < ARRAY_SIZE(vhdx_path_keys); i++)
			if (p->paths[i])
				kv_str(o, vhdx_path_keys[i], p->paths[i]);
	}
}

static int vhdx_map_sector(struct vd_image *im, uint64_t vsec,
			   struct vdisk_mapping *m)
{
	struct vhdx_priv *p = im->priv;

	return vhdx_map(&p->v, vsec, image_read_fn, im, m);
}

static void vhdx_check(struct vd_image *im, struct vd_check *c)
{
	struct vhdx_priv *p = im->priv;
	const struct vhdx *v = &p->v;
	struct vd_ranges rs = { .limit = im->sectors + 16 };
	u64 b, bsec = v->block_size >> 9;
	bool bitmap = false;	/* the current chunk has its sector bitmap */

	if (v->other_header_bad)
		check_warn(c, "header copy %d is damaged (copy %d is used)",
			   3 - v->header, v->header);
	if (p->seq.entries)
		check_warn(c, "log of %u entries replayed in memory; the file still needs it",
			   p->seq.entries);
	c->total = v->data_blocks;
	ranges_add(&rs, 0, VHDX_MiB / 512, "headers", 0);
	ranges_add(&rs, v->bat_offset / 512, v->bat_length / 512, "BAT", 0);
	ranges_add(&rs, v->meta_offset / 512, v->meta_length / 512, "metadata", 0);
	if (!vhdx_guid_is_zero(v->log_guid))
		ranges_add(&rs, v->log_offset / 512, v->log_length / 512, "log", 0);

	for (b = 0; b < v->data_blocks; b++) {
		u64 used = v->disk_size - b * v->block_size, sector = 0, e, pos = 0;
		bool partial;
		__le64 le;

		/* A differencing disk's chunk starts with its sector bitmap. */
		if (v->has_parent && b % v->chunk_ratio == 0) {
			if (vhdx_read(v, image_read_fn, im,
				      v->bat_offset + vhdx_bitmap_index(v, b) * 8, &le, 8)) {
				check_error(c, "cannot read the BAT");
				break;
			}
			bitmap = vhdx_decode_bitmap(v, le64_to_cpu(le), &pos) == VDISK_DATA;
			if (bitmap)
				ranges_add(&rs, pos / 512, VHDX_BITMAP_BYTES / 512,
					   "sector bitmap", b / v->chunk_ratio);
			else if (le)
				check_error(c, "sector bitmap %llu: bad BAT entry %#llx",
					    (unsigned long long)(b / v->chunk_ratio),
					    (unsigned long long)le64_to_cpu(le));
		}
		if (used > v->block_size)
			used = v->block_size;
		if (vhdx_read(v, image_read_fn, im, v->bat_offset + vhdx_bat_index(v, b) * 8,
			      &le, 8)) {
			check_error(c, "cannot read the BAT");
			break;
		}
		e = le64_to_cpu(le);
		switch (vhdx_decode_payload(v, e, &sector, &partial)) {
		case VDISK_DATA:
			c->allocated++;
			if (!vdisk_range_ok(sector, used / 512, im->sectors))
				check_error(c, "block %llu lies past the end of the file",
					    (unsigned long long)b);
			ranges_add(&rs, sector, bsec, "block", b);
			break;
		case VDISK_ZERO:
			c->zero++;
			break;
		case VDISK_UNALLOCATED:
			break;
		default:
			check_error(c, "block %llu: bad BAT entry %#llx",
				    (unsigned long long)b, (unsigned long long)e);
			continue;
		}
		if (partial && !bitmap)
			check_error(c, "block %llu is partially present without a sector bitmap",
				    (unsigned long long)b);
	}
	ranges_check(&rs, c);
	ranges_free(&rs);
}

const struct vd_format vd_vhdx_format = {
	.name = "vhdx",
	.probe = vhdx_probe,
	.open = vhdx_open,
	.info = vhdx_info,
	.check = vhdx_check,
	.map = vhdx_map_sector,
	.repair = vhdx_repair,
	.close = vhdx_close,
};
