/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VDISK_CRC32C_H
#define VDISK_CRC32C_H

#include "vdisk_compat.h"

/*
 * Update @crc with @len bytes.  A whole CRC-32C is
 * vdisk_crc32c(~0, ...) ^ ~0; pass the previous result ^ ~0 back in to
 * continue one over several buffers.
 */
u32 vdisk_crc32c(u32 crc, const void *buf, size_t len);

#endif /* VDISK_CRC32C_H */
