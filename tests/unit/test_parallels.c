// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the Parallels decoder: both signatures, header fields,
 * BAT entries in sectors and in clusters, clusters that are not a power
 * of two, and lookups through an in-memory image.
 */
#include "parallels.h"
#include "tap.h"

#define DEV_SECTORS	4096ULL

static u8 img[DEV_SECTORS * 512];

/* qemu-img's layout: Ext, 64 KiB clusters, 1 MiB disk, data at cluster 1. */
static void good(void)
{
	struct parallels_header *h = (void *)img;

	memset(img, 0, sizeof(img));
	memcpy(h->magic, PARALLELS_MAGIC_EXT, 16);
	h->version = cpu_to_le32(2);
	h->heads = cpu_to_le32(16);
	h->cylinders = cpu_to_le32(1);
	h->tracks = cpu_to_le32(128);
	h->bat_entries = cpu_to_le32(16);
	h->nb_sectors = cpu_to_le64(2048);
	h->data_off = cpu_to_le32(128);
}

static int parse(struct parallels *p)
{
	const char *why = NULL;
	int r = parallels_parse_header(img, DEV_SECTORS, p, &why);

	if (r && !why)
		tap_ok(0, "a refusal says why");
	return r;
}

static void field32(unsigned int off, u32 val, int want, const char *desc)
{
	struct parallels p;

	good();
	*(__le32 *)(img + off) = cpu_to_le32(val);
	tap_is(parse(&p), want, desc);
}

static int mem_read(void *ctx, u64 pos, void *buf, unsigned int len)
{
	if (pos > sizeof(img) || len > sizeof(img) - pos)
		return -EIO;
	memcpy(buf, img + pos, len);
	return 0;
}

static void bat(u32 idx, u32 v)
{
	*(__le32 *)(img + parallels_bat_pos(idx)) = cpu_to_le32(v);
}

int main(void)
{
	struct parallels_header *h = (void *)img;
	struct vdisk_mapping m;
	struct parallels p;

	printf("TAP version 13\n");
	good();
	tap_is(parse(&p), 0, "qemu-img's layout accepted");
	tap_ok(p.ext && p.tracks == 128 && p.unit == 128 && p.capacity == 2048 &&
	       p.bat_used == 16 && p.bat_end == 1 && p.data_start == 128, "fields decoded");

	field32(0, 0x41414141, -EINVAL, "bad magic refused");
	field32(16, 3, -EOPNOTSUPP, "version 3 refused");
	field32(28, 0, -EINVAL, "zero tracks refused");
	field32(28, PARALLELS_MAX_TRACKS + 1, -EINVAL, "tracks over qemu's limit refused");
	field32(28, PARALLELS_MAX_TRACKS, 0, "qemu's largest cluster accepted");
	field32(36, 0, -EINVAL, "empty disk refused");
	field32(44, PARALLELS_INUSE, 0, "in-use mark accepted");
	field32(48, 0, 0, "data_off 0 accepted");
	field32(56, 77, 0, "format extension accepted (ignored)");

	good();
	h->nb_sectors = cpu_to_le64(1ULL << 40);
	h->bat_entries = cpu_to_le32(U32_MAX);
	tap_is(parse(&p), -EINVAL, "BAT past the end of the file refused");
	h->bat_entries = cpu_to_le32(16);
	tap_is(parse(&p), 0, "a disk larger than its BAT accepted");
	tap_is(p.bat_used, 16, "... only the BAT's entries used");

	/* Version 1: the size's high half is ignored, BAT entries are sectors. */
	good();
	memcpy(h->magic, PARALLELS_MAGIC_V1, 16);
	h->tracks = cpu_to_le32(63);
	h->bat_entries = cpu_to_le32(300);	/* header and BAT: 3 sectors */
	h->nb_sectors = cpu_to_le64(0x500000000ULL | 2048);
	tap_is(parse(&p), 0, "WithoutFreeSpace accepted");
	tap_ok(!p.ext && p.capacity == 2048 && p.unit == 1 && p.bat_used == 33,
	       "... low half of the size, 63-sector clusters, unit of one sector");
	bat(0, 0);
	bat(1, 200);
	bat(2, 2);
	bat(3, DEV_SECTORS);
	bat(4, DEV_SECTORS - 63);
	tap_is(parallels_map(&p, 10, mem_read, NULL, &m), 0, "map");
	tap_ok(m.state == VDISK_UNALLOCATED, "BAT entry 0: unallocated");
	parallels_map(&p, 63 + 5, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == 205, "sector 68: sector 200 + 5");
	parallels_map(&p, 2 * 63, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_CORRUPT, "cluster over the header and BAT: corrupt");
	parallels_map(&p, 3 * 63, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_CORRUPT, "cluster past the file: corrupt");
	parallels_map(&p, 4 * 63 + 62, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_DATA && m.sector == DEV_SECTORS - 1,
	       "the file's last sector");
	h->nb_sectors = cpu_to_le64(20000);
	parse(&p);
	parallels_map(&p, 300 * 63 + 1, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_UNALLOCATED, "past the BAT: unallocated, no read");

	/* Ext: entries count clusters. */
	good();
	parse(&p);
	bat(0, 3);
	bat(1, 32);
	tap_is(parallels_decode_bat(&p, 3, 7, &m), VDISK_DATA, "Ext entry 3");
	tap_is(m.sector, 3 * 128 + 7, "... is cluster 3");
	parallels_map(&p, 128 + 127, mem_read, NULL, &m);
	tap_ok(m.state == VDISK_CORRUPT, "Ext cluster at the file's end: corrupt");
	tap_is(parallels_decode_bat(&p, 31, 127, &m), VDISK_DATA, "last whole cluster");
	tap_is(parallels_decode_bat(&p, 3, 128, &m), VDISK_CORRUPT,
	       "offset past the cluster: corrupt");
	field32(28, 96, 0, "96-sector clusters");
	parse(&p);
	tap_is(p.unit, 32, "... split at 32 sectors");
	return tap_done();
}
