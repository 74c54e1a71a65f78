// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: VHD footers, dynamic headers and lookups. */
#include "fuzz.h"
#include "vhd.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct vdisk_mapping m;
	const char *why;
	bool at_end;
	struct vhd v;
	u64 vsec, step;

	if (f.size < VHD_FOOTER_BYTES)
		return 0;
	/* As the target finds the footer. */
	at_end = !vhd_footer_cookie(data);
	if (vhd_parse_footer(data + (at_end ? f.size - VHD_FOOTER_BYTES : 0), at_end,
			     f.size, &v, &why))
		return 0;
	if (v.type != VHD_TYPE_FIXED) {
		if (!vdisk_range_ok(v.header_offset, VHD_DYN_HEADER_BYTES, f.size))
			abort();
		if (vhd_parse_dyn_header(data + v.header_offset, &v, &why))
			return 0;
	}
	step = v.capacity / 64 + 1;
	for (vsec = 0; vsec < v.capacity; vsec += step) {
		if (vhd_map(&v, vsec, fuzz_read, &f, &m))
			abort();
		/* What the decoder calls data lies in the file (the block whole). */
		if (m.state == VDISK_DATA &&
		    !vdisk_range_ok(m.sector * 512, (m.run ?: 1) * 512ULL, f.size))
			abort();
		if (m.run && (m.state != VDISK_DATA && m.state != VDISK_UNALLOCATED))
			abort();
	}
	return 0;
}
