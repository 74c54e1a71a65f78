// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: Parallels headers and lookups. */
#include "fuzz.h"
#include "parallels.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct vdisk_mapping m;
	struct parallels p;
	const char *why;
	u64 vsec, step;

	if (size < 512 || parallels_parse_header(data, size / 512, &p, &why))
		return 0;
	if (!p.unit || p.tracks % p.unit || (p.unit & (p.unit - 1)))
		abort();
	step = p.capacity / 64 + 1;
	for (vsec = 0; vsec < p.capacity; vsec += step) {
		if (parallels_map(&p, vsec, fuzz_read, &f, &m))
			abort();
		if (m.state == VDISK_DATA && m.sector >= f.size / 512)
			abort();
		fuzz_use(&f, &m, 0);
	}
	return 0;
}
