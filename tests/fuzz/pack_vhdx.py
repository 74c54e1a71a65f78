#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seeds for fuzz_vhdx: VHDX files packed as the harness reads them (a le64
file size, then extents {le32 offset in 4 KiB pages, le16 pages, data} of
the non-zero pages).  qemu-img's images given on the command line, plus
vhdxgen's dirty, differencing and 4 KiB-sector ones.

usage: pack_vhdx.py SCRATCH OUTDIR [IMAGE...]
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../lib"))
import vhdxgen  # noqa: E402

MiB = 1 << 20


def pack(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    out = bytearray(struct.pack("<Q", len(data)))
    pages = (len(data) + 4095) // 4096
    p = 0
    while p < pages:
        if not any(data[p * 4096:(p + 1) * 4096]):
            p += 1
            continue
        q = p
        while q < pages and q - p < 0xffff and any(data[q * 4096:(q + 1) * 4096]):
            q += 1
        out += struct.pack("<IH", p, q - p) + data[p * 4096:q * 4096].ljust((q - p) * 4096, b"\0")
        p = q
    with open(dst, "wb") as f:
        f.write(out)


def main():
    scratch, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    made = list(sys.argv[3:])
    base = vhdxgen.Vhdx(4 * MiB, block_size=MiB, seed=1)
    base.write(4096, b"b" * 8192)
    base.save(os.path.join(scratch, "base.vhdx"))
    made.append(os.path.join(scratch, "base.vhdx"))
    child = vhdxgen.Vhdx(parent=base, block_size=MiB, seed=2)
    child.write(512, b"c" * 1024)
    child.save(os.path.join(scratch, "child.avhdx"), log=True)
    made.append(os.path.join(scratch, "child.avhdx"))
    k4 = vhdxgen.Vhdx(4 * MiB, block_size=MiB, logical_sector=4096, seed=3)
    k4.write(MiB, b"k" * 8192)
    k4.save(os.path.join(scratch, "k4.vhdx"), log="wrap")
    made.append(os.path.join(scratch, "k4.vhdx"))
    for i, src in enumerate(made):
        pack(src, os.path.join(outdir, f"seed{i}"))


main()
