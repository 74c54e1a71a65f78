// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: QED headers and lookups. */
#include "fuzz.h"
#include "qed.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct vdisk_mapping m;
	struct qed q;
	const char *why;
	u64 vsec, step;

	if (size < 512 || qed_parse_header(data, f.size, &q, &why))
		return 0;
	if (!vdisk_range_ok(q.l1_offset, qed_l1_bytes(&q), f.size) ||
	    (q.backing_offset &&
	     !vdisk_range_ok(q.backing_offset, q.backing_size, f.size)))
		abort();
	step = q.capacity / 64 + 1;
	for (vsec = 0; vsec < q.capacity; vsec += step) {
		if (qed_map(&q, (const __le64 *)(data + q.l1_offset), vsec,
			    fuzz_read, &f, &m))
			abort();
		if (m.state == VDISK_DATA && m.sector >= f.size / 512)
			abort();
		fuzz_use(&f, &m, 0);
	}
	return 0;
}
