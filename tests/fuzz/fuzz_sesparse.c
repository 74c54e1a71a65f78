// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: seSparse headers and lookups. */
#include "fuzz.h"
#include "sesparse.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct vdisk_mapping m;
	struct sesparse ss;
	const char *why;
	u64 sectors = size / 512, vsec, step;

	if (sectors < 2 || sesparse_parse_headers(data, sectors, &ss, &why))
		return 0;
	if (!vdisk_range_ok(ss.gd_sector * 512, sesparse_gd_bytes(&ss), f.size))
		abort();
	step = ss.capacity / 64 + 1;
	for (vsec = 0; vsec < ss.capacity; vsec += step) {
		if (sesparse_map(&ss, (const __le64 *)(data + ss.gd_sector * 512), vsec,
				 fuzz_read, &f, &m))
			abort();
		fuzz_use(&f, &m, 0);
	}
	return 0;
}
