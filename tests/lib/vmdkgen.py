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


def write_cowd(path, data, granularity=1):
    """A vmfsSparse (VMDK3, "COWD") extent: 32-bit header fields, a grain
    directory of 32-bit sector offsets, grain tables of 4096 entries and
    grains of `granularity` sectors, as ESXi writes snapshot deltas.
    Returns the grain tables' entries."""
    capacity = (len(data) + SECTOR - 1) // SECTOR
    gbytes = granularity * SECTOR
    span = 4096 * granularity
    ngd = (capacity + span - 1) // span
    gd_offset = 4
    gds = (ngd * 4 + SECTOR - 1) // SECTOR
    out = bytearray((gd_offset + gds) * SECTOR)
    gd = [0] * ngd
    gts = {}
    for g in range((capacity + granularity - 1) // granularity):
        chunk = data[g * gbytes:(g + 1) * gbytes]
        if not any(chunk):
            continue
        t = g // 4096
        if t not in gts:
            gd[t] = len(out) // SECTOR
            gts[t] = [0] * 4096
            out += bytes(4096 * 4)
        gts[t][g % 4096] = len(out) // SECTOR
        out += chunk.ljust(gbytes, b"\0")
    for t, gt in gts.items():
        out[gd[t] * SECTOR:gd[t] * SECTOR + 4096 * 4] = struct.pack("<4096I", *gt)
    out[gd_offset * SECTOR:gd_offset * SECTOR + ngd * 4] = struct.pack("<%dI" % ngd, *gd)
    struct.pack_into("<4s10I", out, 0, b"COWD", 1, 3, capacity, granularity,
                     gd_offset, ngd, len(out) // SECTOR, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(out)
    return gts


def write_sesparse(path, capacity, grains, dirty=False):
    """A seSparse extent with ESXi's layout.  `grains` maps a grain number
    (4 KiB units of the disk) to bytes (allocated), "zero" or "unmapped";
    other grains are unallocated.  Allocated grains get shuffled indices
    above 4096 so both halves of the split index encoding are used."""
    G, GT = 8, 4096
    gd_off, gt_off, grain_off = 4096, 6144, 12288
    ngd = (capacity + GT * G - 1) // (GT * G)
    gd = [0] * ngd
    gts = {}
    data = {}
    index = 4100
    for g in sorted(grains):
        t = g // GT
        if t not in gts:
            gd[t] = (0x10000000 << 32) | len(gts)
            gts[t] = [0] * GT
        v = grains[g]
        if v == "zero":
            e = 0x2 << 60
        elif v == "unmapped":
            e = 0x1 << 60
        else:
            index += 7
            e = (0x3 << 60) | ((index & 0xfff) << 48) | (index >> 12)
            data[index] = v
        gts[t][g % GT] = e
    size = grain_off * SECTOR + (index + 1) * G * SECTOR
    hdr = struct.pack("<26Q", 0xCAFEBABE, 0x200000001, capacity, G, 64, 0,
                      0, 0, 0, 0, 1, 1, 2, 2, 2048, 2048, gd_off, 2048,
                      gt_off, 2048, 8192, 2048, 10240, 2048, grain_off, capacity)
    vol = struct.pack("<4Q", 0xCAFECAFE, len(gts), 1, 1 if dirty else 0)
    with open(path, "wb") as f:
        f.truncate(size)
        f.write(hdr.ljust(SECTOR, b"\0") + vol.ljust(SECTOR, b"\0"))
        f.seek(gd_off * SECTOR)
        f.write(struct.pack("<%dQ" % ngd, *gd))
        for t, gt in gts.items():
            f.seek((gt_off + (gd[t] & 0xffffffff) * 64) * SECTOR)
            f.write(struct.pack("<%dQ" % GT, *gt))
        for i, b in data.items():
            f.seek((grain_off + i * G) * SECTOR)
            f.write(b.ljust(G * SECTOR, b"\0"))


def descriptor(cid, create_type, extents, parent=None, parent_cid=0xFFFFFFFF):
    """Descriptor text in the layout VMware and qemu write."""
    lines = ["# Disk DescriptorFile", "version=1", "CID=%08x" % cid,
             "parentCID=%08x" % parent_cid, 'createType="%s"' % create_type]
    if parent:
        lines.append('parentFileNameHint="%s"' % parent)
    lines += ["", "# Extent description"] + extents
    lines += ["", "# The Disk Data Base", "#DDB", 'ddb.adapterType = "lsilogic"', ""]
    return "\n".join(lines)
