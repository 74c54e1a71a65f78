// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: QCOW/QCOW2 headers, extensions, snapshots, lookups. */
#include "fuzz.h"
#include "qcow2.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_img f = { data, size / 512 * 512 };
	struct qcow2_snapshot s;
	struct qcow2_exts e;
	struct vdisk_mapping m;
	struct qcow2 q;
	const char *why, *name;
	u64 vsec, step, off;
	u32 i, len;

	if (size < 512 || qcow_parse_header(data, f.size, &q, &why))
		return 0;
	if (!qcow2_parse_extensions(&q, data, size, &e, &why))
		for (i = 0; i < 64; i++) {
			name = qcow2_feature_name(&e, 0, (u8)i, &len);
			if (name && (const u8 *)name + len > data + size)
				abort();
		}
	off = q.snapshots_offset;
	for (i = 0; i < q.nb_snapshots && off < size; i++) {
		if (qcow2_parse_snapshot(&q, data + off, size - off, &s, &why))
			break;
		off += s.entry_len;
	}
	if (!vdisk_range_ok(q.l1_offset, qcow2_l1_bytes(&q), f.size))
		abort();
	step = q.capacity / 64 + 1;
	for (vsec = 0; vsec < q.capacity; vsec += step) {
		if (qcow2_map(&q, (const __be64 *)(data + q.l1_offset), vsec,
			      fuzz_read, &f, &m))
			abort();
		fuzz_use(&f, &m, qcow2_cluster_bytes(&q));
	}
	return 0;
}
