/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The format core builds unchanged in the kernel module and in userspace
 * (helper, unit tests, fuzzers).  This is the only file that knows which:
 * the kernel branch pulls in kernel headers, the userspace branch supplies
 * the few kernel idioms the core uses.
 */
#ifndef VDISK_COMPAT_H
#define VDISK_COMPAT_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/log2.h>
#include <linux/build_bug.h>
#include <linux/bits.h>
#include <linux/bitops.h>
#include <linux/sort.h>
#ifdef VDISK_LINUX_CRC32C_H
#include <linux/crc32c.h>	/* libcrc32c */
#else
#include <linux/crc32.h>	/* where later kernels declare crc32c() */
#endif
#ifdef VDISK_LINUX_UNALIGNED
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

#define vdisk_sort(base, num, size, cmp)	sort(base, num, size, cmp, NULL)

#else /* !__KERNEL__ */

#include <assert.h>
#include <stdlib.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <endian.h>
#include <sys/cdefs.h>		/* __always_inline */
#include <linux/const.h>
#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;

/* __packed comes from the build flags (see the Makefile). */
#define __force

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define BUILD_BUG_ON(cond)	static_assert(!(cond), #cond)
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define U32_MAX			((u32)~0U)
#define U64_MAX			((u64)~0ULL)
#define DIV_ROUND_UP(n, d)	__KERNEL_DIV_ROUND_UP(n, d)

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

static inline u16 le16_to_cpu(__le16 v) { return le16toh((__force u16)v); }
static inline u32 le32_to_cpu(__le32 v) { return le32toh((__force u32)v); }
static inline u64 le64_to_cpu(__le64 v) { return le64toh((__force u64)v); }
static inline u16 be16_to_cpu(__be16 v) { return be16toh((__force u16)v); }
static inline u32 be32_to_cpu(__be32 v) { return be32toh((__force u32)v); }
static inline u64 be64_to_cpu(__be64 v) { return be64toh((__force u64)v); }
static inline __le16 cpu_to_le16(u16 v) { return (__force __le16)htole16(v); }
static inline __le32 cpu_to_le32(u32 v) { return (__force __le32)htole32(v); }
static inline __le64 cpu_to_le64(u64 v) { return (__force __le64)htole64(v); }

static inline u16 get_unaligned_le16(const void *p)
{
	u16 v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline u64 get_unaligned_le64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline u16 get_unaligned_be16(const void *p)
{
	u16 v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline u32 get_unaligned_be32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline u64 get_unaligned_be64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

#define min_t(type, a, b) ({		\
	type __a = (a), __b = (b);	\
	__a < __b ? __a : __b;		\
})

static inline bool is_power_of_2(u64 n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static inline unsigned int ilog2(u64 n)
{
	return 63 - __builtin_clzll(n);
}

static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static inline unsigned int __ffs64(u64 word)
{
	return __builtin_ctzll(word);
}

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

#define vdisk_sort(base, num, size, cmp)	qsort(base, num, size, cmp)

static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}

/*
 * The kernel's crc32c() (libcrc32c): update @crc with @length bytes, no
 * inversion before or after.  Byte at a time with a table made on first
 * use: only metadata is summed, once, when an image is opened.
 */
static inline u32 crc32c(u32 crc, const void *address, unsigned int length)
{
	static u32 table[256];
	const u8 *p = address;
	unsigned int i, k;

	if (!table[1]) {	/* filling it twice writes the same values */
		for (i = 0; i < 256; i++) {
			u32 c = i;

			for (k = 0; k < 8; k++)
				c = (c >> 1) ^ (0x82f63b78U & -(c & 1));
			table[i] = c;
		}
	}
	while (length--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#endif /* __KERNEL__ */

#endif /* VDISK_COMPAT_H */
