# SPDX-License-Identifier: GPL-2.0
"""Writers for VMDK layouts qemu-img cannot make, from the VMDK spec.

qemu reads all of them, so qemu stays the oracle for the content.
"""
import struct
import zlib

SECTOR = 512
MAGIC = 0x564D444B


def _header(capacity, grain, gtes, gd_offset, desc_offset, desc_size,
            overhead, flags, compress):
    h = struct.pack("<IIIQQQQIQQQB4sH", MAGIC, 3, flags, capacity, grain,
                    desc_offset, desc_size, gtes, 0, gd_offset, overhead, 0,
                    b"\n \r\n", compress)
    return h + bytes(SECTOR - len(h))


def _marker(val, size, kind):
    return struct.pack("<QII", val, size, kind) + bytes(SECTOR - 16)


def _pad(b):
    return b + bytes(-len(b) % SECTOR)


def write_stream(path, data, cid=0x1234abcd, grain=128, gtes=512):
    """A streamOptimized VMDK as VMware's exporters write it: the header's
    grain directory offset says "in the footer", every non-zero grain is
    deflated behind a grain marker, grain tables and the directory follow
    behind their markers, then the footer and the end-of-stream marker."""
    capacity = (len(data) + SECTOR - 1) // SECTOR
    gbytes = grain * SECTOR
    ngrains = (capacity + grain - 1) // grain
    ngts = (ngrains + gtes - 1) // gtes
    desc = ("# Disk DescriptorFile\nversion=1\nCID=%08x\nparentCID=ffffffff\n"
            'createType="streamOptimized"\n\n# Extent description\n'
            'RDONLY %d SPARSE "generated-stream.vmdk"\n\n'
            '# The Disk Data Base\n#DDB\nddb.adapterType = "lsilogic"\n'
            % (cid, capacity)).encode()
    desc = _pad(desc)
    overhead = 128
    flags = 1 | (1 << 16) | (1 << 17)
    out = bytearray(_header(capacity, grain, gtes, 0xFFFFFFFFFFFFFFFF, 1,
                            len(desc) // SECTOR, overhead, flags, 1))
    out += desc
    out += bytes(overhead * SECTOR - len(out))
    gt = [0] * (ngts * gtes)
    for g in range(ngrains):
        chunk = data[g * gbytes:(g + 1) * gbytes]
        if not any(chunk):
            continue
        z = zlib.compress(chunk.ljust(gbytes, b"\0"), 6)
        gt[g] = len(out) // SECTOR
        out += _pad(struct.pack("<QI", g * grain, len(z)) + z)
    gd = []
    gt_sectors = gtes * 4 // SECTOR
    for t in range(ngts):
        out += _marker(gt_sectors, 0, 1)
        gd.append(len(out) // SECTOR)
        out += struct.pack("<%dI" % gtes, *gt[t * gtes:(t + 1) * gtes])
    out += _marker((ngts * 4 + SECTOR - 1) // SECTOR, 0, 2)
    gd_offset = len(out) // SECTOR
    out += _pad(struct.pack("<%dI" % ngts, *gd))
    out += _marker(1, 0, 3)
    out += _header(capacity, grain, gtes, gd_offset, 1, len(desc) // SECTOR,
                   overhead, flags, 1)
    out += _marker(0, 0, 0)
    with open(path, "wb") as f:
        f.write(out)
    return gt
