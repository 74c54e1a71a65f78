// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: VDI header and block map lookups. */
#include "fuzz.h"
#include "vdi.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct vdisk_mapping m;
	struct vdi v;
	const char *why;
	u64 sectors = size / 512, vsec, step;

	if (!sectors || vdi_parse_header(data, sectors, &v, &why))
		return 0;
	if (!vdisk_range_ok(v.bmap_pos, (u64)v.blocks * 4, f.size))
		abort();
	step = v.capacity / 64 + 1;
	for (vsec = 0; vsec < v.capacity; vsec += step) {
		if (vdi_map(&v, vsec, fuzz_read, &f, &m))
			abort();
		/* A data block lies in the file, whole. */
		if (m.state == VDISK_DATA &&
		    !vdisk_range_ok(m.sector - m.offset, VDI_BLOCK_SECTORS, sectors))
			abort();
		fuzz_use(&f, &m, 0);
	}
	return 0;
}
