#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seed images for the kernel fuzzer (tests/fuzz/kernel/fuzzk.c).

usage: fuzzseeds.py OUTDIR

Makes small images of every format with qemu-img/qemu-io and our generators
and writes OUTDIR/seeds.txt, which tells the guest program, per seed, the
format, the image, the table line template and the metadata byte ranges
worth mutating (read back from the image's own header fields):

  seed NAME                 starts a seed
  fmt FMT                   the group FUZZ_KERNEL_FORMATS selects (vmdk,
                            sesparse, qcow2, qcow, vhdx, vhd, vdi, qed,
                            parallels)
  image FILE                the image, in OUTDIR
  sectors N                 the table's length (the virtual size)
  unit BYTES                the format's allocation unit (whole-unit reads)
  parent SEED               mapped first (unmutated); @PARENT@ in the table
  table LINE                one dm table line; @DEV@ is the loop device
                            (major:minor), @SECTORS@ the length
  range OFF LEN LABEL       a metadata byte range to mutate
  crc OFF LEN FIELD         after mutating, usually recompute the CRC-32C
                            of OFF+LEN (FIELD zeroed) into FIELD
  sum OFF LEN FIELD         the same with VHD's checksum (the one's
                            complement of the byte sum, big-endian)
  end

A new format adds one function to SEEDS (the list at the end).
"""
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import parallelsgen  # noqa: E402
import vdigen  # noqa: E402
import vhdgen  # noqa: E402
import vhdxgen  # noqa: E402
import vmdkgen  # noqa: E402

KiB, MiB = 1 << 10, 1 << 20
OUT = None
rng = random.Random(20261202)
seeds = []


def path(name):
    return os.path.join(OUT, name)


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=OUT)


def qemu_io(img, fmt, cmds):
    args = ["qemu-io", "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    run(*args, path(img))


def writes(img, fmt, size, count, max_len=40000):
    cmds = []
    for _ in range(count):
        n = rng.randrange(512, max_len) // 512 * 512
        off = rng.randrange(0, size - n) // 512 * 512
        cmds.append(f"write -P 0x{rng.randrange(1, 256):02x} {off} {n}")
    qemu_io(img, fmt, cmds)


def raw_with_data(name, size, count):
    """A raw disk with random data (compressible runs and noise)."""
    b = bytearray(size)
    for _ in range(count):
        n = rng.randrange(512, 65536)
        off = rng.randrange(0, size - n)
        if rng.random() < 0.5:
            b[off:off + n] = rng.randbytes(n)
        else:
            b[off:off + n] = bytes([rng.randrange(256)]) * n
    with open(path(name), "wb") as f:
        f.write(b)


def read(img, off, n):
    with open(path(img), "rb") as f:
        f.seek(off)
        return f.read(n)


def fill(v, size, count, max_len):
    """count random writes of up to max_len bytes, sector-aligned, into a
    generator's disk (vhdgen, vhdxgen) of size bytes."""
    for _ in range(count):
        n = max(rng.randrange(1, max_len) // 512 * 512, 512)
        off = rng.randrange(0, size - n) // 512 * 512
        v.write(off, rng.randbytes(n))


def fsize(img):
    return os.path.getsize(path(img))


def add(name, fmt, img, sectors, unit, ranges, parent=None, crcs=()):
    size = fsize(img)
    rs = []
    for off, n, label in ranges:
        n = min(n, size - off)
        if off >= 0 and n > 0:
            rs.append((off, n, label))
    assert rs, name
    seeds.append(dict(name=name, fmt=fmt, image=img, sectors=sectors,
                      unit=unit, parent=parent, ranges=rs, crcs=list(crcs),
                      table=f"0 @SECTORS@ vdisk @DEV@ {fmt}" +
                      (" 2 parent @PARENT@" if parent else "")))


# VMDK hosted sparse (KDMV): header, descriptor, both grain directories,
# the grain tables.
def vmdk_ranges(img):
    h = read(img, 0, 512)
    (cap, grain, doff, dsize, gtes, rgd, gd, over) = struct.unpack_from(
        "<QQQQIQQQ", h, 12)
    r = [(0, 512, "header")]
    if doff:
        r.append((doff * 512, dsize * 512, "descriptor"))
    gts = -(-cap // (grain * gtes))
    for lbl, d in (("gd", gd), ("rgd", rgd)):
        if d in (0, 0xffffffffffffffff):
            continue
        r.append((d * 512, gts * 4, lbl))
        for i, (e,) in enumerate(struct.iter_unpack("<I", read(img, d * 512, gts * 4))):
            if e and i < 8:
                r.append((e * 512, gtes * 4, f"{lbl}-gt{i}"))
    return r, cap, grain * 512


def vmdk_sparse():
    img = "vmdk-sparse.vmdk"
    run("qemu-img", "create", "-f", "vmdk", path(img), "4M")
    writes(img, "vmdk", 4 * MiB, 30)
    r, cap, unit = vmdk_ranges(img)
    add("vmdk-sparse", "vmdk", img, cap, unit, r)


def stream_ranges(img, r):
    """The markers of a streamOptimized extent: grain markers (LBA and
    size) and metadata markers (GT, GD, footer, end of stream)."""
    h = read(img, 0, 512)
    over = struct.unpack_from("<Q", h, 12 + 8 * 4 + 4 + 8 + 8)[0]
    pos, size, n = over * 512, fsize(img), 0
    while pos + 16 <= size and n < 4000:
        lba, sz, kind = struct.unpack("<QII", read(img, pos, 16))
        n += 1
        if sz:
            if n < 64:
                r.append((pos, 12, "grain-marker"))
            pos = (pos + 12 + sz + 511) // 512 * 512
        else:
            r.append((pos, 16, f"marker-{kind}"))
            if kind == 0:
                break
            pos += 512 + lba * 512
    if size >= 1536:
        r.append((size - 1536, 1536, "footer"))


def vmdk_stream():
    raw_with_data("stream.raw", 4 * MiB, 40)
    img = "vmdk-stream.vmdk"
    run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o",
        "subformat=streamOptimized", path("stream.raw"), path(img))
    os.unlink(path("stream.raw"))
    h = read(img, 0, 512)
    cap, grain = struct.unpack_from("<QQ", h, 12)
    r = [(0, 512, "header")]
    stream_ranges(img, r)
    add("vmdk-stream-qemu", "vmdk", img, cap, grain * 512, r)
    # The exporters' layout: the directory only in the footer.
    data = bytearray(2 * MiB)
    for i in range(0, len(data), 65536):
        if rng.random() < 0.6:
            data[i:i + 65536] = rng.randbytes(32768) * 2
    img = "vmdk-stream-gen.vmdk"
    vmdkgen.write_stream(path(img), bytes(data))
    r = [(0, 512, "header")]
    stream_ranges(img, r)
    add("vmdk-stream-gen", "vmdk", img, len(data) // 512, 128 * 512, r)


def sesparse():
    img = "sesparse.vmdk"
    # The grains region is as large as the capacity and the generator's
    # grain indices start above 4096: 64 MiB, with the grains in the first
    # 4 MiB (what the fuzzer reads in order).
    cap = 64 * MiB
    grains = {}
    for g in rng.sample(range(4 * MiB // 4096), 60):
        k = rng.random()
        grains[g] = ("zero" if k < 0.2 else "unmapped" if k < 0.3
                     else rng.randbytes(4096))
    vmdkgen.write_sesparse(path(img), cap // 512, grains)
    # Header, volatile header, grain directory, the first grain table.
    r = [(0, 512, "header"), (512, 512, "volatile-header"),
         (4096 * 512, 64, "gd"), (6144 * 512, 32768, "gt0")]
    add("sesparse", "sesparse", img, cap // 512, 4096, r)


# QCOW2: header and extensions, L1, the L2 tables it names (and the
# snapshot table).
def qcow2_ranges(img):
    h = read(img, 0, 512)
    (magic, ver, bfo, bfs, cbits, size, crypt, l1_size, l1_off, rt_off,
     rt_cl, nsn, sn_off) = struct.unpack_from(">IIQIIQIIQQIIQ", h)
    cs = 1 << cbits
    hlen = 72 if ver == 2 else struct.unpack_from(">I", h, 100)[0]
    incompat = 0 if ver == 2 else struct.unpack_from(">Q", h, 72)[0]
    r = [(0, hlen, "header"), (hlen, min(cs, 4096) - hlen, "extensions"),
         (l1_off, l1_size * 8, "l1")]
    l2_bytes = cs * 2 if incompat & 16 else cs
    for i, (e,) in enumerate(struct.iter_unpack(">Q", read(img, l1_off, l1_size * 8))):
        off = e & 0x00fffffffffffe00
        if off and i < 8:
            r.append((off, l2_bytes, f"l2-{i}"))
    if nsn:
        r.append((sn_off, 512, "snapshots"))
    return r, size // 512, cs


def qcow2_one(name, img, parent=None):
    r, sectors, cs = qcow2_ranges(img)
    add(name, "qcow2", img, sectors, cs, r, parent=parent)


def qcow2():
    img = "qcow2-4k.qcow2"
    run("qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=4096",
        path(img), "4M")
    writes(img, "qcow2", 4 * MiB, 30)
    qemu_io(img, "qcow2", ["write -z 65536 65536", "write -z -u 1048576 8192"])
    qcow2_one("qcow2-4k", img)
    img = "qcow2-extl2.qcow2"
    run("qemu-img", "create", "-f", "qcow2", "-o",
        "cluster_size=16384,extended_l2=on", path(img), "4M")
    writes(img, "qcow2", 4 * MiB, 30, 6000)
    qcow2_one("qcow2-extl2", img)
    raw_with_data("q.raw", 4 * MiB, 40)
    for ct in ("zlib", "zstd"):
        img = f"qcow2-{ct}.qcow2"
        run("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
            f"cluster_size=16384,compression_type={ct}", path("q.raw"),
            path(img))
        qcow2_one(f"qcow2-{ct}", img)
    os.unlink(path("q.raw"))
    # A chain: the child reads what it does not allocate from its parent.
    run("qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=4096",
        path("qcow2-base.qcow2"), "4M")
    writes("qcow2-base.qcow2", "qcow2", 4 * MiB, 20)
    run("qemu-img", "create", "-f", "qcow2", "-o", "cluster_size=4096", "-b",
        "qcow2-base.qcow2", "-F", "qcow2", path("qcow2-child.qcow2"))
    writes("qcow2-child.qcow2", "qcow2", 4 * MiB, 20)
    qcow2_one("qcow2-base", "qcow2-base.qcow2")
    qcow2_one("qcow2-child", "qcow2-child.qcow2", parent="qcow2-base")


def qcow1():
    img = "qcow1-zlib.qcow"
    run("qemu-img", "create", "-f", "qcow", path(img), "2M")
    with open(path("c.bin"), "wb") as f:
        f.write((b"compressible " * 400)[:4096] + rng.randbytes(4096))
    # One cluster (4 KiB) per compressed write, as qemu requires.
    qemu_io(img, "qcow", [f"write -c -s c.bin {i * 4096} 4096"
                          for i in range(0, 500, 3)])
    os.unlink(path("c.bin"))
    writes(img, "qcow", 2 * MiB, 5)
    h = read(img, 0, 48)
    size, cbits, l2bits = struct.unpack_from(">QBB", h, 24)
    l1_off = struct.unpack_from(">Q", h, 40)[0]
    cs = 1 << cbits
    l1_size = -(-size // (cs << l2bits))
    r = [(0, 48, "header"), (l1_off, l1_size * 8, "l1")]
    for i, (e,) in enumerate(struct.iter_unpack(">Q", read(img, l1_off, l1_size * 8))):
        if e and i < 8:
            r.append((e, 8 << l2bits, f"l2-{i}"))
    add("qcow1-zlib", "qcow", img, size // 512, cs, r)


# VHDX: both headers and region tables (CRC fixed up most times), the log,
# the metadata region (table and items) and the BAT.
def vhdx_ranges(img):
    r, crcs = [], []
    for i, off in enumerate((64 * KiB, 128 * KiB)):
        r.append((off, 4096, f"header{i}"))
        crcs.append((off, 4096, off + 4))
    for i, off in enumerate((192 * KiB, 256 * KiB)):
        r.append((off, 4096, f"regions{i}"))
        crcs.append((off, 64 * KiB, off + 4))
    h = read(img, 64 * KiB, 4096)
    log_len, log_off = struct.unpack_from("<IQ", h, 68)
    if log_len:
        r.append((log_off, min(log_len, 16 * KiB), "log"))
    rt = read(img, 192 * KiB, 4096)
    n = struct.unpack_from("<I", rt, 8)[0]
    bs = vs = 0
    for k in range(min(n, 8)):
        guid, off, ln = struct.unpack_from("<16sQI", rt, 16 + 32 * k)
        if guid == vhdxgen.META_REGION:
            r.append((off, 512, "metadata-table"))
            m = read(img, off, 128 * KiB)
            cnt = struct.unpack_from("<H", m, 10)[0]
            for j in range(min(cnt, 16)):
                g, io, il = struct.unpack_from("<16sII", m, 32 + 32 * j)
                r.append((off + io, max(il, 8), "metadata-item"))
                if g == vhdxgen.FILE_PARAMS:
                    bs = struct.unpack_from("<I", m, io)[0]
                if g == vhdxgen.DISK_SIZE:
                    vs = struct.unpack_from("<Q", m, io)[0]
        else:
            r.append((off, min(ln, 8192), "bat"))
    return r, crcs, vs // 512, bs


def vhdx_one(name, img, parent=None):
    r, crcs, sectors, bs = vhdx_ranges(img)
    add(name, "vhdx", img, sectors, bs, r, parent=parent,
        crcs=crcs)


def vhdx():
    img = "vhdx-dynamic.vhdx"
    run("qemu-img", "create", "-f", "vhdx", "-o", "block_size=1M,log_size=1M",
        path(img), "4M")
    writes(img, "vhdx", 4 * MiB, 20)
    vhdx_one("vhdx-dynamic", img)

    base = vhdxgen.Vhdx(4 * MiB, block_size=MiB, seed=1)
    fill(base, base.virtual_size, 10, 300000)
    base.save(path("vhdx-base.vhdx"))
    child = vhdxgen.Vhdx(parent=base, block_size=MiB, seed=2)
    fill(child, child.virtual_size, 12, 20000)
    child.zero_block(2)
    child.save(path("vhdx-child.vhdx"))
    vhdx_one("vhdx-base", "vhdx-base.vhdx")
    vhdx_one("vhdx-child", "vhdx-child.vhdx", parent="vhdx-base")
    # A dirty log the target replays in memory.
    v = vhdxgen.Vhdx(4 * MiB, block_size=MiB, seed=3)
    fill(v, v.virtual_size, 8, 100000)
    v.save(path("vhdx-log.vhdx"), log=True)
    vhdx_one("vhdx-log", "vhdx-log.vhdx")


# VHD: the footer (at 0 and in the last sector), the dynamic header, the BAT
# and, in differencing disks, the sector bitmaps before their blocks (a
# dynamic disk's bitmaps are not read).
def vhd_ranges(img):
    f = read(img, 0, 512)
    hoff = struct.unpack_from(">Q", f, 16)[0]
    cur = struct.unpack_from(">Q", f, 48)[0]
    cyl, heads, spt, dtype = struct.unpack_from(">HBBI", f, 56)
    h = read(img, hoff, 1024)
    bat, entries, bs = struct.unpack_from(">QxxxxII", h, 16)
    end = fsize(img) - 512
    r = [(0, 512, "footer0"), (end, 512, "footer"),
         (hoff, 1024, "dyn-header"), (bat, entries * 4, "bat")]
    sums = [(0, 512, 64, "sum"), (end, 512, end + 64, "sum"),
            (hoff, 1024, hoff + 36, "sum")]
    if dtype == 4:
        bm = (-(-bs // 512 // 8) + 511) // 512 * 512
        n = 0
        for i, (e,) in enumerate(struct.iter_unpack(">I", read(img, bat, entries * 4))):
            if e != 0xffffffff and n < 8:
                r.append((e * 512, bm, f"bitmap-{i}"))
                n += 1
    # qemu's virtual size (the target's): CHS unless the creator sizes by
    # current_size or the geometry is the largest.
    chs = cyl * heads * spt
    if f[28:32] in (b"win ", b"qem2", b"d2v ", b"CTXS", b"tap\0") or \
            chs == 65535 * 16 * 255:
        return r, sums, cur // 512, bs
    return r, sums, chs, bs


def vhd_one(name, img, parent=None):
    r, sums, sectors, bs = vhd_ranges(img)
    add(name, "vhd", img, sectors, bs, r, parent=parent, crcs=sums)


def vhd():
    # qemu's: 2 MiB blocks, a CHS-sized disk (the last block partial).
    img = "vhd-dynamic.vhd"
    run("qemu-img", "create", "-f", "vpc", "-o", "subformat=dynamic",
        path(img), "6M")
    writes(img, "vpc", 6 * MiB, 12, 300000)
    vhd_one("vhd-dynamic", img)

    # A chain of vhdgen's: a dynamic base, a differencing child with
    # smaller blocks, sectors from its blocks where the bitmap says.
    base = vhdgen.Vhd(4 * MiB, block_size=128 * KiB, seed=4)
    fill(base, base.size, 12, 200000)
    base.save(path("vhd-base.vhd"))
    child = vhdgen.Vhd(parent=base, block_size=256 * KiB, seed=5)
    fill(child, child.size, 20, 20000)
    child.save(path("vhd-child.vhd"), locators=[(vhdgen.W2RU, ".\\vhd-base.vhd")],
               parent_name="vhd-base.vhd")
    vhd_one("vhd-base", "vhd-base.vhd")
    vhd_one("vhd-child", "vhd-child.vhd", parent="vhd-base")


# VDI: the pre-header and header (as long as the header says), the block
# map.
def vdi_one(name, img, parent=None):
    h = read(img, 0, 512)
    hsize = struct.unpack_from("<I", h, 72)[0]
    bmap = struct.unpack_from("<I", h, 340)[0]
    size = struct.unpack_from("<Q", h, 368)[0]
    bs, extra, blocks = struct.unpack_from("<III", h, 376)
    r = [(0, 72 + hsize, "header"), (bmap, blocks * 4, "bmap")]
    add(name, "vdi", img, -(-size // 512), bs, r, parent=parent)


def vdi():
    img = "vdi-dynamic.vdi"
    run("qemu-img", "create", "-f", "vdi", path(img), "6M")
    writes(img, "vdi", 6 * MiB, 8, 200000)
    vdi_one("vdi-dynamic", img)
    # A differencing child (vdigen's) over a qemu base: data, zero and
    # free (the parent's) blocks.
    run("qemu-img", "create", "-f", "vdi", path("vdi-base.vdi"), "4M")
    writes("vdi-base.vdi", "vdi", 4 * MiB, 10, 200000)
    child = vdigen.Vdi(4 * MiB, kind=vdigen.TYPE_DIFF,
                       link=vdigen.creation_uuid(path("vdi-base.vdi")))
    child.write(rng.randrange(0, MiB - 8192) // 512 * 512, rng.randbytes(8192))
    child.write(2 * MiB + 4096, rng.randbytes(70000 // 512 * 512))
    child.zero(3)
    child.save(path("vdi-child.vdi"))
    vdi_one("vdi-base", "vdi-base.vdi")
    vdi_one("vdi-child", "vdi-child.vdi", parent="vdi-base")


# QED: the header, the L1 table and the L2 tables it names.
def qed_one(name, img, parent=None):
    h = read(img, 0, 64)
    cs, ts = struct.unpack_from("<II", h, 4)
    l1, size = struct.unpack_from("<QQ", h, 40)
    tb = cs * ts
    r = [(0, 64, "header"), (l1, tb, "l1")]
    for i, (e,) in enumerate(struct.iter_unpack("<Q", read(img, l1, tb))):
        if e and i < 8:
            r.append((e, tb, f"l2-{i}"))
    add(name, "qed", img, size // 512, cs, r, parent=parent)


def qed():
    # 4 KiB clusters, 2-cluster tables (qemu refuses 1): an L2 table maps
    # 4 MiB, so 6 MiB need two.
    opts = "cluster_size=4096,table_size=2"
    img = "qed-4k.qed"
    run("qemu-img", "create", "-f", "qed", "-o", opts, path(img), "6M")
    writes(img, "qed", 6 * MiB, 30)
    qemu_io(img, "qed", ["write -z 65536 65536"])
    qed_one("qed-4k", img)
    # A backing file: the parent.
    run("qemu-img", "create", "-f", "qed", "-o", opts, path("qed-base.qed"), "4M")
    writes("qed-base.qed", "qed", 4 * MiB, 20)
    run("qemu-img", "create", "-f", "qed", "-o", opts, "-b", "qed-base.qed",
        "-F", "qed", path("qed-child.qed"))
    writes("qed-child.qed", "qed", 4 * MiB, 20)
    qed_one("qed-base", "qed-base.qed")
    qed_one("qed-child", "qed-child.qed", parent="qed-base")


# Parallels: the header and the BAT.
def parallels_one(name, img):
    h = read(img, 0, 64)
    tracks, entries, sectors = struct.unpack_from("<IIQ", h, 28)
    if h[:16] == b"WithoutFreeSpace":
        sectors &= 0xffffffff
    r = [(0, 64, "header"), (64, entries * 4, "bat")]
    add(name, "parallels", img, sectors, tracks * 512, r)


def parallels():
    img = "parallels-64k.hds"
    run("qemu-img", "create", "-f", "parallels", "-o", "cluster_size=64K",
        path(img), "4M")
    writes(img, "parallels", 4 * MiB, 20)
    parallels_one("parallels-64k", img)
    # Version 1 (BAT entries count sectors), clusters of 24 sectors.
    p = parallelsgen.Parallels(3 * MiB, tracks=24, ext=False, seed=6)
    for _ in range(30):
        n = rng.randrange(512, 30000) // 512 * 512
        p.write(rng.randrange(0, p.size - n) // 512 * 512, rng.randbytes(n))
    p.save(path("parallels-v1.hds"))
    parallels_one("parallels-v1", "parallels-v1.hds")


# One function per format family: a new format adds its own here.
SEEDS = [vmdk_sparse, vmdk_stream, sesparse, qcow2, qcow1, vhdx, vhd, vdi, qed,
         parallels]


def main():
    global OUT
    OUT = os.path.abspath(sys.argv[1])
    os.makedirs(OUT, exist_ok=True)
    for f in SEEDS:
        f()
    with open(path("seeds.txt"), "w") as f:
        for s in seeds:
            f.write(f"seed {s['name']}\nfmt {s['fmt']}\nimage {s['image']}\n"
                    f"sectors {s['sectors']}\nunit {s['unit']}\n")
            if s["parent"]:
                f.write(f"parent {s['parent']}\n")
            f.write(f"table {s['table']}\n")
            for off, n, label in s["ranges"]:
                f.write(f"range {off} {n} {label}\n")
            for off, n, field, *kind in s["crcs"]:
                f.write(f"{kind[0] if kind else 'crc'} {off} {n} {field}\n")
            f.write("end\n")


if __name__ == "__main__":
    main()
