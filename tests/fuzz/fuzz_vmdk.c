// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: VMDK sparse headers, stream tails, descriptors, lookups. */
#include "fuzz.h"
#include "vmdk.h"
#include "vmdk_desc.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct vmdk_extent_line ext[8];
	struct vmdk_desc d = { .extents = ext, .max_extents = 8 };
	struct vmdk_sparse vs;
	struct vdisk_mapping m;
	const char *why;
	u64 sectors = size / 512, vsec, step;
	__le32 *gd;
	u32 line;
	int r;

	vmdk_parse_descriptor((const char *)data, size, &d, &line, &why);
	if (sectors < 1)
		return 0;
	if (vmdk4_gd_in_footer(data))
		r = sectors > VMDK4_TAIL_SECTORS ?
			vmdk4_parse_tail(data + (sectors - VMDK4_TAIL_SECTORS) * 512,
					 sectors, &vs, &why) : -EINVAL;
	else
		r = vmdk_parse_header(data, sectors, &vs, &why);
	if (r)
		return 0;
	if (!vdisk_range_ok(vs.gd_sector * 512, vmdk_gd_bytes(&vs), f.size))
		abort();
	gd = (__le32 *)(data + vs.gd_sector * 512);
	step = vs.capacity / 64 + 1;
	for (vsec = 0; vsec < vs.capacity; vsec += step) {
		if (vmdk_map(&vs, gd, vsec, fuzz_read, &f, &m))
			abort();
		fuzz_use(&f, &m, 0);
		if (m.state == VDISK_COMPRESSED) {
			u64 pos = m.sector * 512;
			u32 len;

			if (pos < size &&
			    !vmdk_grain_marker(&vs, data + pos, size - pos,
					       vsec - m.offset, &len, &why)) {
				static u8 out[2U << 20];

				if (len <= size - pos - VMDK4_GRAIN_MARKER_SIZE)
					vdisk_inflate(NULL, VDISK_ZLIB,
						      data + pos + VMDK4_GRAIN_MARKER_SIZE,
						      len, out, vmdk_grain_sectors(&vs) * 512);
			}
		}
	}
	return 0;
}
