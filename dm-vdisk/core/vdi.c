// SPDX-License-Identifier: GPL-2.0
/*
 * VDI decoding.  What is accepted is what qemu's reader accepts, less the
 * fields qemu ignores but VirtualBox would not (block_extra, image types
 * other than normal, fixed and differencing): those are refused rather
 * than read one way or the other.
 */
#include "vdi.h"

int vdi_parse_header(const void *buf, u64 dev_sectors, struct vdi *v,
		     const char **why)
{
	const struct vdi_header *h = buf;
	u64 size, bmap_bytes;

	BUILD_BUG_ON(sizeof(*h) != 512);
	memset(v, 0, sizeof(*v));
	if (le32_to_cpu(h->signature) != VDI_SIGNATURE)
		return vdisk_bad(why, "not a VDI image (bad signature)", -EINVAL);
	if (le32_to_cpu(h->version) != VDI_VERSION_1_1)
		return vdisk_bad(why, "unsupported VDI version (not 1.1)", -EOPNOTSUPP);
	v->type = le32_to_cpu(h->image_type);
	if (v->type != VDI_TYPE_NORMAL && v->type != VDI_TYPE_FIXED &&
	    v->type != VDI_TYPE_DIFF)
		return vdisk_bad(why, "unsupported VDI image type", -EOPNOTSUPP);
	if (le32_to_cpu(h->sector_size) != VDISK_SECTOR_SIZE)
		return vdisk_bad(why, "unsupported VDI sector size (not 512)", -EOPNOTSUPP);
	if (le32_to_cpu(h->block_size) != VDI_BLOCK_BYTES)
		return vdisk_bad(why, "unsupported VDI block size (not 1 MiB)", -EOPNOTSUPP);
	/* Room for per-block data VirtualBox would skip and qemu would not. */
	if (h->block_extra)
		return vdisk_bad(why, "unsupported VDI block_extra (not 0)", -EOPNOTSUPP);

	v->blocks = le32_to_cpu(h->blocks_in_image);
	v->allocated = le32_to_cpu(h->blocks_allocated);
	if (v->blocks > VDI_MAX_BLOCKS)
		return vdisk_bad(why, "VDI block map has too many entries", -EFBIG);
	/* VBoxManage writes sizes that are not whole sectors: round up as qemu does. */
	size = le64_to_cpu(h->disk_size);
	if (size > (u64)VDI_MAX_BLOCKS * VDI_BLOCK_BYTES)
		return vdisk_bad(why, "VDI disk size out of range", -EFBIG);
	v->capacity = vdisk_div_round_up_shift(size, VDISK_SECTOR_SHIFT);
	if (!v->capacity)
		return vdisk_bad(why, "VDI disk size is zero", -EINVAL);
	if (v->capacity > (u64)v->blocks * VDI_BLOCK_SECTORS)
		return vdisk_bad(why, "VDI disk size exceeds what the block map covers",
				 -EINVAL);

	if (v->type == VDI_TYPE_DIFF) {
		if (vdi_uuid_is_null(h->uuid_link))
			return vdisk_bad(why, "differencing VDI image without a parent UUID",
					 -EINVAL);
	} else if (!vdi_uuid_is_null(h->uuid_link) ||
		   !vdi_uuid_is_null(h->uuid_parent_modify)) {
		return vdisk_bad(why, "VDI image names a parent but is not differencing",
				 -EINVAL);
	}

	v->dev_sectors = dev_sectors;
	v->bmap_pos = le32_to_cpu(h->offset_bmap);
	bmap_bytes = (u64)v->blocks * 4;
	if ((v->bmap_pos & VDISK_SECTOR_MASK) ||
	    (le32_to_cpu(h->offset_data) & VDISK_SECTOR_MASK))
		return vdisk_bad(why, "VDI block map or data offset is not sector aligned",
				 -EOPNOTSUPP);
	if (v->bmap_pos < sizeof(*h) ||
	    !vdisk_range_ok(v->bmap_pos, bmap_bytes,
			    dev_sectors << VDISK_SECTOR_SHIFT))
		return vdisk_bad(why, "VDI block map lies outside the file", -EINVAL);
	v->data_sector = le32_to_cpu(h->offset_data) >> VDISK_SECTOR_SHIFT;
	if (!v->data_sector)
		return vdisk_bad(why, "VDI data offset overlaps the header", -EINVAL);

	memcpy(v->uuid_create, h->uuid_create, 16);
	memcpy(v->uuid_modify, h->uuid_modify, 16);
	memcpy(v->uuid_link, h->uuid_link, 16);
	memcpy(v->uuid_parent_modify, h->uuid_parent_modify, 16);
	*why = NULL;
	return 0;
}

/*
 * Decode a block map entry: a block index, counted in blocks from the data
 * offset, or one of the two markers.  The whole block must lie in the
 * device.
 */
enum vdisk_state vdi_decode_entry(const struct vdi *v, u32 entry, u64 *sector)
{
	if (entry == VDI_BLOCK_FREE)
		return VDISK_UNALLOCATED;
	if (entry == VDI_BLOCK_ZERO)
		return VDISK_ZERO;
	if (entry >= v->blocks)
		return VDISK_CORRUPT;
	*sector = v->data_sector + (u64)entry * VDI_BLOCK_SECTORS;
	if (!vdisk_range_ok(*sector, VDI_BLOCK_SECTORS, v->dev_sectors))
		return VDISK_CORRUPT;
	return VDISK_DATA;
}
