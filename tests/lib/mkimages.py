#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Make the guest selftests' images on the host and their expected content.

Every image is made by qemu-img/qemu-io (or is a qemu-made image damaged on
purpose); the expected md5 of a mapped disk is that of `qemu-img convert -O
raw` of the same image: qemu is the oracle, not this script.

Writes OUTDIR/cases.txt, one case per line (see tests/guest/vmdk.sh):
  map NAME FILE BYTES MD5             whole disk equals qemu's conversion
  win NAME FILE BYTES OFF:LEN:MD5...  windows (bytes) of a large sparse disk
  refuse NAME FILE REGEX              vdisk create fails, message matches
  eio NAME FILE GOOD_OFF BAD_OFF LEN [intact]
                                      reading at GOOD works, at BAD fails;
                                      vdisk check finds corruption unless
                                      "intact" (the failure is by design)
  mapopt NAME FILE OPTION BYTES MD5   like map, with a vdisk create option
  refuse-opt NAME FILE OPTION REGEX   refused with that option
  refuse-chain NAME FILE REGEX        refused for its chain (vdisk check,
                                      which looks at one image, passes)
  refuse-create NAME FILE OPTION REGEX  (guest only) vdisk create OPTION
                                      refuses it
  big NAME FILE BYTES MD5 OFF:LEN:MD5... a large disk: the host reads it
                                      whole, the guest the windows
  mapss NAME FILE SS BYTES MD5        like map; the disk has SS-byte
                                      logical sectors
  mappart NAME FILE N BYTES MD5       partition N of the disk (vdisk create
                                      --partition N) is BYTES long, reads MD5
  parts NAME FILE N:BYTES:MD5...      (guest only) vdisk create maps every
                                      partition N as NAMEpN, BYTES long,
                                      reading MD5, and no other
  info NAME FILE REGEX                (host only) vdisk info shows REGEX
  repair NAME FILE BYTES MD5          (host only) vdisk check --repair of
                                      a dirty VHDX copy reads as MD5
  fault NAME FILE DATA BAT GOOD BAD   faults injected under the image: at
                                      byte DATA (the data of guest byte BAD),
                                      at BAT (a table page; - for none),
                                      delays, flakiness
  checkcost NAME FILE REGEX           (host only) vdisk check, held to
                                      60 s and 512 MiB, reports REGEX
  cache NAME FILE BYTES MD5           like map, once with the module's
                                      cache_mb=1 (its tables take 4 MiB),
                                      once with the default
  mem NAME FILE BYTES MD5 MAX         like map; the target holds at most
                                      MAX bytes (status <memory>, vdisk
                                      info's memory_bytes) after reading it
  resume NAME FILE OFF BYTES LEN MD5 MD5AFTER
                                      (guest) a copy in /tmp mapped, its
                                      first LEN bytes read MD5; suspended,
                                      BYTES (printf octal escapes) written
                                      at byte OFF of the copy (a table
                                      entry), resumed: they read MD5AFTER
"""
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import types
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vhdgen  # noqa: E402
import vdigen  # noqa: E402
import parallelsgen  # noqa: E402
import vhdxgen  # noqa: E402
import vmdkgen  # noqa: E402

OUT = os.path.abspath(sys.argv[1])
rng = random.Random(int(os.environ.get("VDISK_TEST_SEED", "20261123")))
cases = []
MiB = 1 << 20


def run(*cmd):
    # In the images' folder: qemu finds a qcow2 data file relative to the
    # working directory (vdisk looks next to the image).
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=OUT)


def path(name):
    return os.path.join(OUT, name)


def qemu_raw(img, fmt=None):
    raw = path("tmp.raw")
    run("qemu-img", "convert", *(["-f", fmt] if fmt else []), "-O", "raw",
        path(img), raw)
    return raw


def md5_range(f, off, length):
    h = hashlib.md5()
    f.seek(off)
    left = length
    while left:
        buf = f.read(min(left, MiB))
        if not buf:  # past the end of a raw file reads as zeros
            buf = bytes(min(left, MiB))
        h.update(buf)
        left -= len(buf)
    return h.hexdigest()


def expect_whole(name, img, fmt=None):
    raw = qemu_raw(img, fmt)
    size = os.path.getsize(raw)
    with open(raw, "rb") as f:
        cases.append(f"map {name} {img} {size} {md5_range(f, 0, size)}")
    os.unlink(raw)


def qemu_md5(img, fmt=None):
    raw = qemu_raw(img, fmt)
    with open(raw, "rb") as f:
        md5 = md5_range(f, 0, os.path.getsize(raw))
    os.unlink(raw)
    return md5


def expect_windows(name, img, windows):
    raw = qemu_raw(img)
    size = os.path.getsize(raw)
    with open(raw, "rb") as f:
        w = [f"{o}:{n}:{md5_range(f, o, n)}" for o, n in windows]
    cases.append(f"win {name} {img} {size} " + " ".join(w))
    os.unlink(raw)


def expect_big(name, img, windows, fmt=None):
    raw = qemu_raw(img, fmt)
    size = os.path.getsize(raw)
    with open(raw, "rb") as f:
        w = [f"{o}:{n}:{md5_range(f, o, n)}" for o, n in windows]
        whole = md5_range(f, 0, size)
    cases.append(f"big {name} {img} {size} {whole} " + " ".join(w))
    os.unlink(raw)


def vdisk_size(img):
    out = subprocess.run(["qemu-img", "info", "--output=json", path(img)],
                         check=True, capture_output=True, cwd=OUT).stdout
    return json.loads(out)["virtual-size"]


def qemu_io(img, cmds, fmt=None):
    fmt = fmt or os.path.splitext(img)[1][1:]
    args = ["qemu-io", "-f", fmt]
    for c in cmds:
        args += ["-c", c]
    run(*args, path(img))


def random_writes(img, size, count, max_len, align=1):
    """Random offsets and lengths (unaligned by default), random data."""
    src = path("random.bin")
    with open(src, "wb") as f:
        f.write(rng.randbytes(max_len))
    cmds = []
    for _ in range(count):
        length = rng.randrange(1, max_len) // align * align or align
        off = rng.randrange(0, size - length) // align * align
        if rng.random() < 0.5:
            cmds.append(f"write -s {src} {off} {length}")
        else:
            cmds.append(f"write -P 0x{rng.randrange(256):02x} {off} {length}")
    qemu_io(img, cmds)
    os.unlink(src)


def create(img, size, *opts):
    args = ["qemu-img", "create", "-f", "vmdk"]
    if opts:
        args += ["-o", ",".join(opts)]
    run(*args, path(img), str(size))


def damaged_copy(src, name, fn):
    """A copy of image src as name, then fn(name) damages it."""
    shutil.copy(path(src), path(name))
    fn(name)


def patch(img, off, data):
    with open(path(img), "r+b") as f:
        f.seek(off)
        f.write(data)


def header(img):
    with open(path(img), "rb") as f:
        h = f.read(512)
    (magic, ver, flags, cap, grain, doff, dsize, gtes, rgd, gd,
     over) = struct.unpack_from("<IIIQQQQIQQQ", h)
    return dict(cap=cap, grain=grain, gtes=gtes, rgd=rgd, gd=gd, flags=flags)


def first_gt(img):
    """Byte offset of the first grain table and its entries."""
    h = header(img)
    with open(path(img), "rb") as f:
        f.seek(h["gd"] * 512)
        gde = struct.unpack("<I", f.read(4))[0]
        f.seek(gde * 512)
        gt = struct.unpack(f"<{h['gtes']}I", f.read(4 * h["gtes"]))
    return gde * 512, gt


def positive():
    # Random unaligned writes of random data and patterns.
    create("random.vmdk", 64 * MiB)
    random_writes("random.vmdk", 64 * MiB, 60, 300 * 1024)
    expect_whole("random-writes", "random.vmdk")

    # Zero writes with zeroed grains: whole grains become GTE 1.
    create("zeroed.vmdk", 32 * MiB, "zeroed_grain=on")
    random_writes("zeroed.vmdk", 32 * MiB, 20, 256 * 1024)
    qemu_io("zeroed.vmdk", ["write -z 0 1M", "write -z 5M 192k",
                            "write -z 12345 4000", "write -P 0x5a 20M 1M",
                            "write -z 20M 128k"])
    expect_whole("zeroed-grains", "zeroed.vmdk")

    # Zero writes without the flag write zeros as data.
    create("zerowrite.vmdk", 16 * MiB)
    qemu_io("zerowrite.vmdk", ["write -P 0xee 0 4M", "write -z 1M 1M"])
    expect_whole("zero-writes", "zerowrite.vmdk")

    # Size not a multiple of the grain (64 KiB) nor of 4 KiB.
    size = 10 * MiB + 3 * 512
    create("odd.vmdk", size)
    qemu_io("odd.vmdk", [f"write -P 0x77 {size - 1536} 1536",
                         f"write -P 0x78 {size - 70000} 1000"])
    expect_whole("odd-size", "odd.vmdk")

    # Converted from a raw file: qemu-img skips zero runs.
    raw = path("src.raw")
    with open(raw, "wb") as f:
        f.truncate(48 * MiB)
        for _ in range(40):
            f.seek(rng.randrange(0, 48 * MiB - 200000))
            f.write(rng.randbytes(rng.randrange(1, 200000)))
    run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", raw, path("converted.vmdk"))
    os.unlink(raw)
    expect_whole("converted", "converted.vmdk")

    # Options the other cases do not use.
    create("opts.vmdk", 8 * MiB, "compat6=on", "adapter_type=lsilogic")
    random_writes("opts.vmdk", 8 * MiB, 10, 100000, align=512)
    expect_whole("compat6-lsilogic", "opts.vmdk")

    # A large sparse disk: many grain tables, hashed in windows.
    size = 6 * 1024 * MiB
    create("big.vmdk", size)
    spots = [0, 2 * 1024 * MiB - 40000, 4 * 1024 * MiB + 12345, size - 100000]
    qemu_io("big.vmdk", [f"write -P 0x{i + 1:02x} {o} 100000" for i, o in enumerate(spots)])
    expect_windows("large-sparse", "big.vmdk",
                   [(o // MiB * MiB, 2 * MiB) if o + 2 * MiB <= size
                    else (size - 2 * MiB, 2 * MiB) for o in spots] +
                   [(3 * 1024 * MiB, 4 * MiB)])


def rewrite_desc(img, fn):
    """Edit the embedded descriptor of a sparse VMDK in place."""
    with open(path(img), "r+b") as f:
        h = f.read(512)
        doff, dsize = struct.unpack_from("<QQ", h, 28)
        f.seek(doff * 512)
        text = f.read(dsize * 512).rstrip(b"\0").decode()
        new = fn(text).encode()
        assert len(new) <= dsize * 512
        f.seek(doff * 512)
        f.write(new + bytes(dsize * 512 - len(new)))


def write_text(name, text):
    with open(path(name), "w") as f:
        f.write(text)


def vmdk_family():
    GiB = 1024 * MiB
    # Multi-extent sparse: data across the 2 GiB extent boundary.
    create("two.vmdk", 5 * GiB, "subformat=twoGbMaxExtentSparse")
    spots = [2 * GiB - 40000, 4 * GiB - 4096, 5 * GiB - 80000]
    qemu_io("two.vmdk", [f"write -P 0x{i + 0x21:02x} {o} 80000" for i, o in enumerate(spots)])
    expect_windows("two-gb-sparse", "two.vmdk",
                   [(2 * GiB - MiB, 2 * MiB), (4 * GiB - MiB, 2 * MiB),
                    (5 * GiB - 2 * MiB, 2 * MiB), (0, MiB)])

    # Multi-extent flat (sparse files on the host): 2 GiB + 512 MiB.
    create("twoflat.vmdk", 2 * GiB + 512 * MiB, "subformat=twoGbMaxExtentFlat")
    qemu_io("twoflat.vmdk", [f"write -P 0x31 {2 * GiB - 30000} 60000",
                             f"write -P 0x32 {2 * GiB + 512 * MiB - 4096} 4096"])
    expect_windows("two-gb-flat", "twoflat.vmdk",
                   [(2 * GiB - MiB, 2 * MiB), (2 * GiB + 510 * MiB, 2 * MiB)])

    create("flat.vmdk", 16 * MiB, "subformat=monolithicFlat")
    random_writes("flat.vmdk", 16 * MiB, 20, 200000)
    expect_whole("monolithic-flat", "flat.vmdk")

    # Descriptors of our own: a flat extent at an offset, a sparse extent,
    # a ZERO extent and an RDONLY one.  qemu drops lines that are not RW
    # and mishandles ZERO lines, so it is the oracle only for a descriptor
    # without them; with them, the expected disk is put together from the
    # flat file's bytes, qemu's reading of the sparse extent and zeros.
    # (qemu 7.2 also reads an extent line twice when a blank line comes
    # right before it, so these descriptors have none there.)
    data = rng.randbytes(3 * MiB)
    with open(path("mixed-data.bin"), "wb") as f:
        f.write(data)
    create("mixed-s.vmdk", 4 * MiB)
    qemu_io("mixed-s.vmdk", ["write -P 0x44 1M 1M"])
    desc = ('# Disk DescriptorFile\r\nversion=1\r\nCID=abcdef01\r\n'
            'parentCID=ffffffff\r\ncreateType="twoGbMaxExtentFlat"\r\n'
            '# Extent description\r\n%s\r\n\r\n# The Disk Data Base\r\n#DDB\r\n'
            'ddb.adapterType = "lsilogic"\r\n')
    write_text("mixed-rw.vmdk", desc % 'RW 2048 FLAT "mixed-data.bin" 2048\r\n'
               'RW 8192 SPARSE "mixed-s.vmdk"\r\nRW 1024 FLAT "mixed-data.bin" 0')
    expect_whole("descriptor-flat-sparse", "mixed-rw.vmdk")
    write_text("mixed.vmdk", desc % 'RW 2048 FLAT "mixed-data.bin" 2048\r\n'
               'RW 8192 SPARSE "mixed-s.vmdk"\r\nRW 4096 ZERO\r\n'
               'RDONLY 1024 FLAT "mixed-data.bin" 0')
    raw = qemu_raw("mixed-s.vmdk")
    with open(raw, "rb") as f:
        sparse = f.read()
    os.unlink(raw)
    want = data[MiB:2 * MiB] + sparse + bytes(2 * MiB) + data[:512 * 1024]
    cases.append(f"map descriptor-zero-rdonly mixed.vmdk {len(want)} "
                 f"{hashlib.md5(want).hexdigest()}")
    # NOACCESS extents read as I/O errors (qemu drops them).
    write_text("noaccess.vmdk", desc % 'RW 2048 FLAT "mixed-data.bin"\r\n'
               'NOACCESS 2048 FLAT "mixed-data.bin"')
    cases.append(f"eio noaccess noaccess.vmdk 0 {MiB} 4096 intact")

    # A three-level chain, with zeroed grains in the top layer.
    create("chain-base.vmdk", 32 * MiB)
    random_writes("chain-base.vmdk", 32 * MiB, 20, 1 * MiB)
    run("qemu-img", "create", "-f", "vmdk", "-b", "chain-base.vmdk", "-F", "vmdk",
        path("chain-mid.vmdk"))
    random_writes("chain-mid.vmdk", 32 * MiB, 20, 1 * MiB)
    run("qemu-img", "create", "-f", "vmdk", "-o", "zeroed_grain=on", "-b",
        "chain-mid.vmdk", "-F", "vmdk", path("chain-top.vmdk"))
    random_writes("chain-top.vmdk", 32 * MiB, 10, 300000)
    qemu_io("chain-top.vmdk", ["write -z 0 2M", "write -z 20M 64k"])
    expect_whole("chain-3", "chain-top.vmdk")
    chain_md5 = cases[-1].split()[-1]

    # A parent whose CID is not the one the child expects.
    shutil.copy(path("chain-mid.vmdk"), path("cid-mid.vmdk"))
    rewrite_desc("cid-mid.vmdk", lambda t: re.sub(r"\nCID=[0-9a-f]+", "\nCID=12345678", t))
    shutil.copy(path("chain-top.vmdk"), path("cid-top.vmdk"))
    rewrite_desc("cid-top.vmdk", lambda t: t.replace('"chain-mid.vmdk"', '"cid-mid.vmdk"'))
    cases.append("refuse-chain cid-mismatch cid-top.vmdk has.CID.12345678,.expected")
    # ... which --ignore-parent-id accepts: the data is the chain's.
    cases.append(f"mapopt cid-ignored cid-top.vmdk --ignore-parent-id {32 * MiB} {chain_md5}")

    # A VMDK delta over a raw base: refused, as qemu refuses any VMDK over
    # a parent that is not a disk image.
    with open(path("rawbase.img"), "wb") as f:
        f.write(rng.randbytes(8 * MiB))
    create("overraw.vmdk", 8 * MiB)
    random_writes("overraw.vmdk", 8 * MiB, 10, 200000)
    rewrite_desc("overraw.vmdk", lambda t: t.replace(
        'createType=', 'parentFileNameHint="rawbase.img"\ncreateType='))
    cases.append("refuse-chain parent-raw overraw.vmdk "
                 "parent..rawbase.img..is.in.no.format.vdisk.knows")

    # Missing and looping parents.
    shutil.copy(path("chain-top.vmdk"), path("orphan.vmdk"))
    rewrite_desc("orphan.vmdk", lambda t: t.replace('"chain-mid.vmdk"', '"gone.vmdk"'))
    cases.append("refuse-chain orphan orphan.vmdk parent.not.found:.*gone.vmdk")
    for a, b in (("loop-a.vmdk", "loop-b.vmdk"), ("loop-b.vmdk", "loop-a.vmdk")):
        create(a, 4 * MiB)
        rewrite_desc(a, lambda t, b=b: t.replace(
            'createType=', f'parentFileNameHint="{b}"\ncreateType='))
    cases.append("refuse-chain loop loop-a.vmdk chain.loops.back")


def stream():
    """streamOptimized: deflated grains behind markers.  qemu-img writes
    them with the grain directory up front; VMware's exporters put it in
    the footer, which tests/lib/vmdkgen.py writes (qemu reads both)."""
    raw = path("stream-src.raw")
    with open(raw, "wb") as f:
        f.truncate(24 * MiB)
        for _ in range(30):
            f.seek(rng.randrange(0, 24 * MiB - 300000))
            f.write(rng.randbytes(rng.randrange(1, 300000)))
    run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o",
        "subformat=streamOptimized", raw, path("stream-random.vmdk"))
    os.unlink(raw)
    expect_whole("stream-qemu-random", "stream-random.vmdk")

    # Compressible and random data, a size that is not a grain multiple.
    size = 20 * MiB + 7 * 512
    data = bytearray(size)
    for i in range(0, size // 2, 4096):
        data[i:i + 4096] = (b"line %08d of some compressible text\n" % i * 120)[:4096]
    for _ in range(20):
        off = rng.randrange(size // 2, size - 100000)
        data[off:off + 100000] = rng.randbytes(100000)
    data[size - 1000:] = rng.randbytes(1000)
    gt = vmdkgen.write_stream(path("stream-vmware.vmdk"), bytes(data[:size]))
    expect_whole("stream-footer", "stream-vmware.vmdk")

    # A cut-off export has no footer: refused.
    with open(path("stream-vmware.vmdk"), "rb") as f:
        img = f.read()
    # Faults under it: the data of a stored grain in the random half (and
    # the 1 MiB after it).  Not its grain table: that shares a page with
    # the footer, which the helper reads through the page cache.
    k = next(i for i in range(size // 2 // 65536, len(gt)) if gt[i])
    cases.append(f"fault stream-faults stream-vmware.vmdk {gt[k] * 512} - 0 {k * 65536}")
    with open(path("stream-cut.vmdk"), "wb") as f:
        f.write(img[:len(img) * 2 // 3 + 700])
    cases.append("refuse stream-cut stream-cut.vmdk truncated.or.damaged.stream")
    # Garbage in one grain's deflate data, and a marker naming another
    # grain: only those grains fail.
    bad = bytearray(img)
    bad[gt[5] * 512 + 12 + 40:gt[5] * 512 + 12 + 60] = bytes(20)
    with open(path("stream-baddata.vmdk"), "wb") as f:
        f.write(bad)
    cases.append(f"eio stream-baddata stream-baddata.vmdk 0 {5 * 65536} 4096")
    bad = bytearray(img)
    struct.pack_into("<Q", bad, gt[7] * 512, 123456)
    with open(path("stream-badlba.vmdk"), "wb") as f:
        f.write(bad)
    cases.append(f"eio stream-badlba stream-badlba.vmdk {6 * 65536} {7 * 65536 + 8192} 4096")


def cid_of(img):
    with open(path(img), "rb") as f:
        h = f.read(512)
        doff = struct.unpack_from("<Q", h, 28)[0]
        f.seek(doff * 512)
        text = f.read(4096).decode(errors="replace")
    return int(re.search(r"\nCID=([0-9a-f]+)", text).group(1), 16)


def esxi():
    """ESXi snapshot deltas (vmfsSparse, seSparse) over a qemu-made base,
    written by tests/lib/vmdkgen.py; qemu reads the chains."""
    size = 40 * MiB
    create("esx-base.vmdk", size)
    qemu_io("esx-base.vmdk", [f"write -P 0x{i + 0x60:02x} {i * 4 * MiB} {3 * MiB}"
                              for i in range(10)])
    cid = cid_of("esx-base.vmdk")

    # seSparse: every grain table entry type, over data in the base.
    grains = {}
    for g in rng.sample(range(size // 4096), 400):
        kind = rng.random()
        grains[g] = ("zero" if kind < 0.2 else "unmapped" if kind < 0.4
                     else rng.randbytes(rng.choice((4096, 1000))))
    vmdkgen.write_sesparse(path("esx-se-delta.vmdk"), size // 512, grains)
    write_text("esx-se.vmdk", vmdkgen.descriptor(
        0x5e5e5e5e, "seSparse", [f'RW {size // 512} SESPARSE "esx-se-delta.vmdk"'],
        "esx-base.vmdk", cid))
    expect_whole("sesparse-chain", "esx-se.vmdk")

    # A dirty seSparse delta (journal not replayed) is refused.
    vmdkgen.write_sesparse(path("esx-dirty-delta.vmdk"), size // 512,
                           {1: b"x" * 4096}, dirty=True)
    write_text("esx-dirty.vmdk", vmdkgen.descriptor(
        0x5e5e5e5f, "seSparse", [f'RW {size // 512} SESPARSE "esx-dirty-delta.vmdk"']))
    cases.append("refuse sesparse-dirty esx-dirty.vmdk journal.must.be.replayed")

    # An entry of no known type fails its grain only.
    shutil.copy(path("esx-se-delta.vmdk"), path("esx-bad-delta.vmdk"))
    g = min(k for k in grains if k > 10)
    with open(path("esx-bad-delta.vmdk"), "r+b") as f:
        f.seek(6144 * 512 + (g % 4096) * 8)
        f.write(struct.pack("<Q", 0x5 << 60))
    write_text("esx-bad.vmdk", vmdkgen.descriptor(
        0x5e5e5e60, "seSparse", [f'RW {size // 512} SESPARSE "esx-bad-delta.vmdk"'],
        "esx-base.vmdk", cid))
    cases.append(f"eio sesparse-badentry esx-bad.vmdk 0 {g * 4096} 4096")

    # vmfsSparse: 512-byte grains over the base.
    data = bytearray(size)
    for _ in range(40):
        off = rng.randrange(0, size - 70000)
        n = rng.randrange(1, 70000)
        data[off:off + n] = rng.randbytes(n)
    vmdkgen.write_cowd(path("esx-cowd-delta.vmdk"), bytes(data))
    write_text("esx-cowd.vmdk", vmdkgen.descriptor(
        0x77777777, "vmfsSparse", [f'RW {size // 512} VMFSSPARSE "esx-cowd-delta.vmdk"'],
        "esx-base.vmdk", cid))
    expect_whole("vmfssparse-chain", "esx-cowd.vmdk")


def qcow_create(img, size, fmt="qcow2", opts=(), backing=None, bfmt=None):
    args = ["qemu-img", "create", "-f", fmt]
    if opts:
        args += ["-o", ",".join(opts)]
    if backing:
        args += ["-b", backing, "-F", bfmt]
    run(*args, path(img), *([str(size)] if size else []))


def qcow_writes(img, size, fmt=None, count=30, max_len=300000):
    src = path("random.bin")
    with open(src, "wb") as f:
        f.write(rng.randbytes(max_len))
    cmds = []
    for _ in range(count):
        n = rng.randrange(1, max_len)
        off = rng.randrange(0, size - n)
        cmds.append(rng.choice([f"write -s {src} {off} {n}",
                                f"write -P 0x{rng.randrange(256):02x} {off} {n}"]))
    qemu_io(img, cmds, fmt)
    os.unlink(src)


def set_be(img, off, fmt, value):
    with open(path(img), "r+b") as f:
        f.seek(off)
        f.write(struct.pack(fmt, value))


def get_be(img, off, fmt):
    with open(path(img), "rb") as f:
        f.seek(off)
        return struct.unpack(fmt, f.read(struct.calcsize(fmt)))[0]


def qcow():
    """QCOW v1 and QCOW2 v2/v3 as qemu-img and qemu-io write them."""
    # Version 1, plain and with compressed clusters.
    qcow_create("v1.qcow", 8 * MiB, "qcow")
    qcow_writes("v1.qcow", 8 * MiB, "qcow")
    expect_whole("qcow1", "v1.qcow", "qcow")
    qcow_create("v1c.qcow", 8 * MiB, "qcow")
    src = path("v1c-src.bin")
    with open(src, "wb") as f:
        f.write((b"compressible " * 400)[:4096] + rng.randbytes(4096))
    # One cluster (4 KiB) per compressed write, as qemu requires.
    qemu_io("v1c.qcow", [f"write -c -s {src} {i * 4096} 4096" for i in range(0, 2000, 3)],
            "qcow")
    qcow_writes("v1c.qcow", 8 * MiB, "qcow", 5)
    os.unlink(src)
    expect_whole("qcow1-compressed", "v1c.qcow", "qcow")

    # Versions 2 and 3, cluster sizes from 512 bytes to 2 MiB.
    for compat, cl in (("0.10", 65536), ("1.1", 512), ("1.1", 4096), ("1.1", 65536),
                       ("1.1", 2 * MiB)):
        img = f"v{compat}-{cl}.qcow2"
        qcow_create(img, 24 * MiB, opts=(f"compat={compat}", f"cluster_size={cl}"))
        qcow_writes(img, 24 * MiB)
        expect_whole(f"qcow2-compat{compat}-cluster{cl}", img)

    # Zero writes and discards (zero clusters, bit 0, need v3).
    qcow_create("zero.qcow2", 16 * MiB)
    qcow_writes("zero.qcow2", 16 * MiB, count=10, max_len=2 * MiB)
    qemu_io("zero.qcow2", ["write -z 1M 2M", "write -z -u 5M 1M", "discard 8M 1M",
                           "write -z 10000 3000", "write -P 0x9a 12M 64k"])
    expect_whole("qcow2-zero-discard", "zero.qcow2")

    # Extended L2 (subclusters) with small unaligned writes.
    qcow_create("extl2.qcow2", 16 * MiB, opts=("extended_l2=on", "cluster_size=65536"))
    qcow_writes("extl2.qcow2", 16 * MiB, count=60, max_len=5000)
    qemu_io("extl2.qcow2", ["write -z 4M 6k", "write -P 0x11 6M 2k"])
    expect_whole("qcow2-extended-l2", "extl2.qcow2")

    # Compressed images: qemu-img convert -c, zlib and zstd.
    raw = path("c.raw")
    with open(raw, "wb") as f:
        for i in range(24 * 16):
            chunk = rng.randbytes(65536) if i % 5 == 0 else \
                (b"cluster %06d text " % i * 4096)[:65536]
            f.write(bytes(65536) if i % 7 == 0 else chunk)
        f.truncate(24 * MiB + 12345 // 512 * 512)
    for ctype in ("zlib", "zstd"):
        run("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
            f"compression_type={ctype}", raw, path(f"comp-{ctype}.qcow2"))
        expect_whole(f"qcow2-compressed-{ctype}", f"comp-{ctype}.qcow2")
    os.unlink(raw)

    # A three-layer chain: different cluster sizes, a base shorter than
    # the overlays (reads past its end are zeros).
    qcow_create("ch-base.qcow2", 12 * MiB, opts=("cluster_size=4096",))
    qcow_writes("ch-base.qcow2", 12 * MiB)
    qcow_create("ch-mid.qcow2", 20 * MiB, opts=("cluster_size=65536",),
                backing="ch-base.qcow2", bfmt="qcow2")
    qcow_writes("ch-mid.qcow2", 20 * MiB)
    qcow_create("ch-top.qcow2", 24 * MiB, opts=("cluster_size=2097152",),
                backing="ch-mid.qcow2", bfmt="qcow2")
    qcow_writes("ch-top.qcow2", 24 * MiB, count=10)
    qemu_io("ch-top.qcow2", ["write -z 0 4M", "discard 8M 2M"])
    expect_whole("qcow2-chain-3", "ch-top.qcow2")

    # Mixed chains: qcow2 over a VMDK and over raw, VMDK over qcow2.
    create("mx-base.vmdk", 16 * MiB)
    random_writes("mx-base.vmdk", 16 * MiB, 20, 500000)
    qcow_create("mx-over-vmdk.qcow2", None, backing="mx-base.vmdk", bfmt="vmdk")
    qcow_writes("mx-over-vmdk.qcow2", 16 * MiB)
    expect_whole("qcow2-over-vmdk", "mx-over-vmdk.qcow2")
    with open(path("mx-base.raw"), "wb") as f:
        f.write(rng.randbytes(10 * MiB))
    qcow_create("mx-over-raw.qcow2", 16 * MiB, backing="mx-base.raw", bfmt="raw")
    qcow_writes("mx-over-raw.qcow2", 16 * MiB)
    expect_whole("qcow2-over-raw", "mx-over-raw.qcow2")
    # qemu refuses VMDK over non-VMDK: the expected disk is the qcow2
    # base with what the VMDK delta allocates (qemu-img map) laid over it.
    base_raw = qemu_raw("ch-mid.qcow2", "qcow2")
    with open(base_raw, "rb") as f:
        want = bytearray(f.read())
    os.unlink(base_raw)
    create("mx-over-qcow2.vmdk", len(want))
    random_writes("mx-over-qcow2.vmdk", len(want), 15, 300000)
    raw = qemu_raw("mx-over-qcow2.vmdk")
    with open(raw, "rb") as f:
        delta = f.read()
    os.unlink(raw)
    for e in json.loads(subprocess.run(
            ["qemu-img", "map", "--output=json", path("mx-over-qcow2.vmdk")],
            check=True, capture_output=True).stdout):
        if e["present"]:
            want[e["start"]:e["start"] + e["length"]] = delta[e["start"]:e["start"] + e["length"]]
    rewrite_desc("mx-over-qcow2.vmdk", lambda t: t.replace(
        'createType=', 'parentFileNameHint="ch-mid.qcow2"\ncreateType='))
    cases.append(f"map vmdk-over-qcow2 mx-over-qcow2.vmdk {len(want)} "
                 f"{hashlib.md5(want).hexdigest()}")

    # Internal snapshots.
    qcow_create("snap.qcow2", 16 * MiB)
    qcow_writes("snap.qcow2", 16 * MiB, count=10)
    run("qemu-img", "snapshot", "-c", "first one", path("snap.qcow2"))
    qcow_writes("snap.qcow2", 16 * MiB, count=10)
    run("qemu-img", "snapshot", "-c", "second", path("snap.qcow2"))
    qcow_writes("snap.qcow2", 16 * MiB, count=10)
    expect_whole("qcow2-snapshots-active", "snap.qcow2")
    for sid, sel in (("1", "--snapshot=1"), ("2", "--snapshot=second")):
        raw = path("tmp.raw")
        run("qemu-img", "convert", "-l", f"snapshot.id={sid}", "-O", "raw",
            path("snap.qcow2"), raw)
        with open(raw, "rb") as f:
            data = f.read()
        os.unlink(raw)
        cases.append(f"mapopt qcow2-snapshot-{sid} snap.qcow2 {sel} {len(data)} "
                     f"{hashlib.md5(data).hexdigest()}")
    cases.append("refuse-opt qcow2-no-such-snapshot snap.qcow2 --snapshot=nope "
                 "no.snapshot.with.id.or.name")

    # External data files, raw and not.
    for raw_flag in ("off", "on"):
        img = f"ext-{raw_flag}.qcow2"
        qcow_create(img, 16 * MiB, opts=(f"data_file=ext-{raw_flag}.bin",
                                         f"data_file_raw={raw_flag}"))
        qcow_writes(img, 16 * MiB)
        expect_whole(f"qcow2-data-file-raw-{raw_flag}", img)

    # The dirty bit: metadata is still consistent for reads.
    shutil.copy(path("zero.qcow2"), path("dirty.qcow2"))
    set_be("dirty.qcow2", 72, ">Q", get_be("dirty.qcow2", 72, ">Q") | 1)
    cases.append(cases[[c.split()[1] for c in cases].index("qcow2-zero-discard")]
                 .replace("qcow2-zero-discard zero.qcow2", "qcow2-dirty dirty.qcow2"))

    # Refusals: corrupt bit, unknown incompatible feature, encryption,
    # missing and looping backing files, a backing format that lies.
    shutil.copy(path("zero.qcow2"), path("corrupt.qcow2"))
    set_be("corrupt.qcow2", 72, ">Q", 2)
    cases.append("refuse qcow2-corrupt-bit corrupt.qcow2 marked.corrupt")
    shutil.copy(path("zero.qcow2"), path("feature.qcow2"))
    set_be("feature.qcow2", 72, ">Q", 1 << 5)
    cases.append("refuse qcow2-unknown-feature feature.qcow2 unknown.incompatible.feature")
    shutil.copy(path("zero.qcow2"), path("crypt.qcow2"))
    set_be("crypt.qcow2", 32, ">I", 1)
    cases.append("refuse qcow2-encrypted crypt.qcow2 encrypted")
    shutil.copy(path("v1.qcow"), path("crypt1.qcow"))
    set_be("crypt1.qcow", 36, ">I", 1)
    cases.append("refuse qcow1-encrypted crypt1.qcow encrypted")
    shutil.copy(path("ch-top.qcow2"), path("orphan.qcow2"))
    run("qemu-img", "rebase", "-u", "-b", "gone.qcow2", "-F", "qcow2", path("orphan.qcow2"))
    cases.append("refuse-chain qcow2-orphan orphan.qcow2 parent.not.found:.*gone.qcow2")
    qcow_create("la.qcow2", 8 * MiB)
    qcow_create("lb.qcow2", 8 * MiB, backing="la.qcow2", bfmt="qcow2")
    run("qemu-img", "rebase", "-u", "-b", "lb.qcow2", "-F", "qcow2", path("la.qcow2"))
    cases.append("refuse-chain qcow2-loop la.qcow2 loops.back")
    # A parent declared raw is raw, whatever its bytes look like (qemu
    # reads it so): never probed, so a guest cannot make it an image.
    shutil.copy(path("mx-over-raw.qcow2"), path("liar.qcow2"))
    run("qemu-img", "rebase", "-u", "-b", "ch-base.qcow2", "-F", "raw", path("liar.qcow2"))
    expect_whole("qcow2-declared-raw-not-probed", "liar.qcow2")
    # ... and one declared qcow2 must be qcow2.
    shutil.copy(path("mx-over-raw.qcow2"), path("liar2.qcow2"))
    run("qemu-img", "rebase", "-u", "-b", "mx-base.raw", "-F", "qcow2", path("liar2.qcow2"))
    cases.append("refuse-chain qcow2-backing-format-lies liar2.qcow2 "
                 "backing.file..mx-base.raw..is.not.a.qcow2.image")
    # --format: no probing; raw maps the file's own bytes.
    cases.append(f"mapopt format-named ch-top.qcow2 --format=qcow2 "
                 f"{vdisk_size('ch-top.qcow2')} {qemu_md5('ch-top.qcow2')}")
    cases.append("refuse-opt format-wrong ch-top.qcow2 --format=vhdx not.a.vhdx.image")
    with open(path("ch-top.qcow2"), "rb") as f:
        data = f.read()
    data += bytes(-len(data) % 512)
    cases.append(f"mapopt format-raw ch-top.qcow2 --format=raw {len(data)} "
                 f"{hashlib.md5(data).hexdigest()}")
    # --no-parent: the top image alone, what it lacks reads as zeros.
    shutil.copy(path("ch-top.qcow2"), path("alone.qcow2"))
    run("qemu-img", "rebase", "-u", "-b", "", path("alone.qcow2"))
    cases.append(f"mapopt no-parent ch-top.qcow2 --no-parent "
                 f"{vdisk_size('alone.qcow2')} {qemu_md5('alone.qcow2')}")

    # Damaged tables: an L2 entry past the end, a misaligned L1 entry.
    shutil.copy(path("v1.1-65536.qcow2"), path("badl2.qcow2"))
    l1 = get_be("badl2.qcow2", 40, ">Q")
    l2 = get_be("badl2.qcow2", l1, ">Q") & 0x00fffffffffffe00
    e = next(i for i in range(256) if get_be("badl2.qcow2", l2 + 8 * i, ">Q"))
    good = next(i for i in range(e + 1, 256) if get_be("badl2.qcow2", l2 + 8 * i, ">Q"))
    set_be("badl2.qcow2", l2 + 8 * e, ">Q", (1 << 63) | (1 << 50))
    cases.append(f"eio qcow2-l2-past-end badl2.qcow2 {good * 65536} {e * 65536} 4096")
    # With 4 KiB clusters an L2 table spans 2 MiB: only that span fails.
    shutil.copy(path("v1.1-4096.qcow2"), path("badl1.qcow2"))
    l1 = get_be("badl1.qcow2", 40, ">Q")
    first = next(i for i in range(12) if get_be("badl1.qcow2", l1 + 8 * i, ">Q"))
    later = next(i for i in range(first + 1, 12) if get_be("badl1.qcow2", l1 + 8 * i, ">Q"))
    set_be("badl1.qcow2", l1 + 8 * first, ">Q", get_be("badl1.qcow2", l1 + 8 * first, ">Q") + 512)
    cases.append(f"eio qcow2-l1-misaligned badl1.qcow2 {later * 2 * MiB} {first * 2 * MiB} 4096")


def vhdx_create(img, size, *opts):
    run("qemu-img", "create", "-f", "vhdx", *(["-o", ",".join(opts)] if opts else []),
        path(img), str(size))


def vhdx_qemu():
    """qemu-img's VHDX: dynamic with 1, 8, 32 and 256 MiB blocks, fixed,
    sizes that are not block multiples, zero writes."""
    for bs, size in ((1, 37 * MiB + 1536), (8, 100 * MiB), (32, 70 * MiB + 512),
                     (256, 300 * MiB)):
        img = f"dyn{bs}m.vhdx"
        vhdx_create(img, size, f"block_size={bs}M")
        random_writes(img, size, 40, 3 * MiB)
        expect_whole(f"vhdx-dynamic-{bs}m", img)
    vhdx_create("fixed.vhdx", 20 * MiB + 512, "subformat=fixed", "block_size=1M")
    random_writes("fixed.vhdx", 20 * MiB + 512, 30, MiB)
    expect_whole("vhdx-fixed", "fixed.vhdx")
    # Zeros written over data, and blocks only zeros were written to.
    vhdx_create("zeroes.vhdx", 24 * MiB, "block_size=1M")
    qemu_io("zeroes.vhdx", ["write -P 0x5a 0 8M", "write -z 1M 2M",
                            "write -z 12M 3M", "write -P 0x11 20M 4096"])
    expect_whole("vhdx-zero-writes", "zeroes.vhdx")


def vhdx_generated():
    """VHDX images qemu-img cannot make or read (4096-byte sectors,
    differencing chains, dirty logs), written by tests/lib/vhdxgen.py; the
    expected content is its model of the disk, checked against qemu-img
    wherever qemu can read the image."""
    seed = rng.randrange(1 << 30)

    def fill(v, count, max_len):
        ls = v.logical_sector
        for _ in range(count):
            n = max(rng.randrange(1, max_len) // ls * ls, ls)
            off = rng.randrange(0, v.virtual_size - n) // ls * ls
            v.write(off, rng.randbytes(n))

    def expect(name, v, img, parent_bytes=None, qemu=False):
        data = v.expected(parent_bytes)
        md5 = hashlib.md5(data).hexdigest()
        if qemu:
            raw = qemu_raw(img)
            with open(raw, "rb") as f:
                if md5_range(f, 0, len(data)) != md5:
                    sys.exit(f"mkimages: qemu-img and vhdxgen disagree on {img}")
            os.unlink(raw)
        if v.logical_sector == 4096:
            cases.append(f"mapss {name} {img} 4096 {len(data)} {md5}")
        else:
            cases.append(f"map {name} {img} {len(data)} {md5}")

    # Every block state qemu reads, cross-checked with qemu.
    v = vhdxgen.Vhdx(33 * MiB + 1536, block_size=MiB, seed=seed)
    fill(v, 25, 2 * MiB)
    v.zero_block(3)
    v.set_state(5, vhdxgen.UNMAPPED, stale=b"\x55" * MiB)
    v.set_state(6, vhdxgen.UNDEFINED, stale=b"\x66" * MiB)
    v.save(path("g-states.vhdx"))
    expect("vhdx-gen-states", v, "g-states.vhdx", qemu=True)
    # 4096-byte logical sectors, dynamic and fixed.
    v = vhdxgen.Vhdx(40 * MiB + 8192, block_size=MiB, logical_sector=4096, seed=seed + 1)
    fill(v, 25, 2 * MiB)
    v.zero_block(2)
    v.save(path("g-4k.vhdx"))
    expect("vhdx-gen-4k-dynamic", v, "g-4k.vhdx")
    v = vhdxgen.Vhdx(24 * MiB, block_size=2 * MiB, logical_sector=4096, fixed=True,
                     seed=seed + 2)
    fill(v, 10, MiB)
    v.save(path("g-4k-fixed.vhdx"))
    expect("vhdx-gen-4k-fixed", v, "g-4k-fixed.vhdx")

    # A differencing chain: partially and fully present blocks, zero and
    # undefined blocks over a parent, three levels.
    base = vhdxgen.Vhdx(48 * MiB, block_size=2 * MiB, seed=seed + 3)
    fill(base, 30, 3 * MiB)
    base.save(path("g-base.vhdx"))
    expect("vhdx-gen-diff-base", base, "g-base.vhdx", qemu=True)
    child = vhdxgen.Vhdx(parent=base, block_size=2 * MiB, seed=seed + 4)
    fill(child, 40, 100000)
    child.write(10 * MiB, rng.randbytes(2 * MiB))
    child.write(20 * MiB + 512, rng.randbytes(4096), full=True)
    child.zero_block(15)
    child.set_state(16, vhdxgen.UNDEFINED)
    child.save(path("g-child.avhdx"))
    expect("vhdx-gen-diff-child", child, "g-child.avhdx")
    grand = vhdxgen.Vhdx(parent=child, block_size=MiB, seed=seed + 5)
    fill(grand, 30, 50000)
    grand.save(path("g-grand.avhdx"))
    expect("vhdx-gen-diff-grandchild", grand, "g-grand.avhdx")
    # The relative path is wrong; the absolute path's file name is found.
    other = vhdxgen.Vhdx(parent=base, block_size=2 * MiB, seed=seed + 6)
    fill(other, 10, 100000)
    other.save(path("g-abs.avhdx"), relative_path="..\\moved\\g-base.vhdx",
               absolute_win32_path="D:\\Hyper-V\\g-base.vhdx")
    expect("vhdx-gen-diff-absolute-path", other, "g-abs.avhdx")
    other.save(path("g-linkage.avhdx"), parent_linkage="{%s}" % uuid.uuid4())
    cases.append("refuse-chain vhdx-gen-diff-linkage g-linkage.avhdx "
                 "has.data.write.GUID.*expected")
    other.save(path("g-orphan.avhdx"), relative_path=".\\gone.vhdx",
               absolute_win32_path="")
    cases.append("refuse-chain vhdx-gen-diff-orphan g-orphan.avhdx "
                 "parent.not.found:.*gone.vhdx")
    # 4096-byte sectors in a chain.
    base4 = vhdxgen.Vhdx(16 * MiB, block_size=MiB, logical_sector=4096, seed=seed + 7)
    fill(base4, 10, MiB)
    base4.save(path("g-base4k.vhdx"))
    child4 = vhdxgen.Vhdx(parent=base4, block_size=MiB, logical_sector=4096, seed=seed + 8)
    fill(child4, 20, 40000)
    child4.save(path("g-child4k.avhdx"))
    expect("vhdx-gen-diff-4k", child4, "g-child4k.avhdx")

    # Mixed chains: a VHDX child over a qcow2 parent, and a qcow2 overlay
    # over a VHDX base (which qemu reads: it is the oracle there).
    qcow_create("g-qbase.qcow2", 24 * MiB)
    qcow_writes("g-qbase.qcow2", 24 * MiB)
    raw = qemu_raw("g-qbase.qcow2")
    with open(raw, "rb") as f:
        qbase = f.read()
    os.unlink(raw)
    fake = types.SimpleNamespace(path="g-qbase.qcow2", virtual_size=24 * MiB,
                                 data_write_guid=uuid.uuid4())
    mixed = vhdxgen.Vhdx(parent=fake, block_size=MiB, seed=seed + 9)
    fill(mixed, 20, 60000)
    mixed.save(path("g-over-qcow2.avhdx"))
    expect("vhdx-gen-diff-over-qcow2", mixed, "g-over-qcow2.avhdx", parent_bytes=qbase)
    qcow_create("g-over-vhdx.qcow2", 48 * MiB, backing="g-base.vhdx", bfmt="vhdx")
    qcow_writes("g-over-vhdx.qcow2", 48 * MiB)
    expect_whole("qcow2-over-vhdx", "g-over-vhdx.qcow2")

    # Dirty logs: the BAT, a data page and the disk size are right only in
    # the log; an older sequence must lose.  qemu replays the non-wrapped
    # one on a copy (it will not read-only), and must agree.
    d = vhdxgen.Vhdx(30 * MiB, block_size=MiB, seed=seed + 10)
    fill(d, 20, MiB)
    d.save(path("g-dirty.vhdx"), log=True, stale_log=True, stale_meta=True)
    shutil.copy(path("g-dirty.vhdx"), path("g-replayed.vhdx"))
    run("qemu-img", "check", "-q", "-r", "all", path("g-replayed.vhdx"))
    raw = qemu_raw("g-replayed.vhdx")
    with open(raw, "rb") as f:
        if hashlib.md5(f.read()).hexdigest() != hashlib.md5(d.expected()).hexdigest():
            sys.exit("mkimages: qemu-img's log replay and vhdxgen disagree")
    os.unlink(raw)
    os.unlink(path("g-replayed.vhdx"))
    expect("vhdx-gen-dirty", d, "g-dirty.vhdx")
    cases.append(cases[-1].replace("map ", "repair ", 1))
    # Each block's second 64 KiB before its first: a block the log rewrote
    # in part (its first page) must not be kept whole from a read past it.
    data = d.expected()
    w = [(b * MiB + o, 65536) for b in range(30) for o in (65536, 0)]
    cases.append("win vhdx-gen-dirty-apart g-dirty.vhdx %d " % len(data) + " ".join(
        f"{o}:{n}:{hashlib.md5(data[o:o + n]).hexdigest()}" for o, n in w))
    d = vhdxgen.Vhdx(20 * MiB, block_size=MiB, seed=seed + 11)
    fill(d, 15, MiB)
    d.save(path("g-dirty-wrap.vhdx"), log="wrap")
    expect("vhdx-gen-dirty-wrapped", d, "g-dirty-wrap.vhdx")
    cases.append(cases[-1].replace("map ", "repair ", 1))
    d = vhdxgen.Vhdx(20 * MiB, block_size=MiB, logical_sector=4096, seed=seed + 12)
    fill(d, 15, MiB)
    d.save(path("g-dirty-4k.vhdx"), log=True)
    expect("vhdx-gen-dirty-4k", d, "g-dirty-4k.vhdx")
    d = vhdxgen.Vhdx(parent=base, block_size=2 * MiB, seed=seed + 13)
    fill(d, 20, 100000)
    d.save(path("g-dirty-child.avhdx"), log=True)
    expect("vhdx-gen-dirty-child", d, "g-dirty-child.avhdx")
    # A log entry of 20000 descriptors, overlapping, later ones winning (an
    # index, not a scan per read); one over the cap of 65536 is refused.
    d = vhdxgen.Vhdx(20 * MiB, block_size=MiB, seed=seed + 14)
    fill(d, 15, MiB)
    d.save(path("g-dirty-many.vhdx"), log=True, many=20000)
    expect("vhdx-gen-dirty-many-descriptors", d, "g-dirty-many.vhdx")
    d.save(path("g-dirty-cap.vhdx"), log=True, many=65537)
    cases.append("refuse vhdx-log-over-cap g-dirty-cap.vhdx more.than.65536.descriptors")
    # The dirty image cut short of the log's flushed size.
    shutil.copy(path("g-dirty.vhdx"), path("g-dirty-cut.vhdx"))
    os.truncate(path("g-dirty-cut.vhdx"), os.path.getsize(path("g-dirty.vhdx")) - MiB)
    cases.append("refuse vhdx-dirty-truncated g-dirty-cut.vhdx shorter.than.its.log")

    vhdx_damaged(seed)


def vhdx_damaged(seed):
    """Damaged VHDX images: refused, or mapped with EIO where it is."""
    v = vhdxgen.Vhdx(16 * MiB, block_size=MiB, seed=seed + 20)
    v.write(0, rng.randbytes(6 * MiB))
    L = v.save(path("g-ok.vhdx"), current=0)
    good = hashlib.md5(v.expected()).hexdigest()
    # Faults injected under this image in the guest (dm-error, dm-delay,
    # dm-flakey): guest block 3's data, the BAT's first page.
    cases.append(f"fault vhdx-faults g-ok.vhdx {L.blocks[3]} {L.bat} 0 {3 * MiB}")

    def damaged(name, fn):
        damaged_copy("g-ok.vhdx", name, fn)

    # The current header (copy 1) damaged: copy 2 is used.
    damaged("g-hdr1.vhdx", lambda n: patch(n, 64 * 1024 + 200, b"\xff"))
    cases.append(f"map vhdx-header-copy-damaged g-hdr1.vhdx {16 * MiB} {good}")
    damaged("g-hdrs.vhdx", lambda n: (patch(n, 64 * 1024 + 200, b"\xff"),
                                      patch(n, 128 * 1024 + 200, b"\xff")))
    cases.append("refuse vhdx-headers-damaged g-hdrs.vhdx both.VHDX.headers.are.damaged")
    damaged("g-region1.vhdx", lambda n: patch(n, 192 * 1024 + 300, b"\xff"))
    cases.append(f"map vhdx-region-table-damaged g-region1.vhdx {16 * MiB} {good}")
    damaged("g-regions.vhdx", lambda n: (patch(n, 192 * 1024 + 300, b"\xff"),
                                         patch(n, 256 * 1024 + 300, b"\xff")))
    cases.append("refuse vhdx-regions-damaged g-regions.vhdx both.VHDX.region.tables")

    def add_region(n):
        with open(path(n), "rb") as f:
            f.seek(192 * 1024)
            rt = bytearray(f.read(64 * 1024))
        count = struct.unpack_from("<I", rt, 8)[0]
        struct.pack_into("<16sQII", rt, 16 + 32 * count,
                         uuid.UUID("01234567-89ab-cdef-0123-456789abcdef").bytes_le,
                         L.meta, MiB, 1)
        struct.pack_into("<II", rt, 4, 0, count + 1)
        struct.pack_into("<I", rt, 4, vhdxgen.crc32c(rt))
        patch(n, 192 * 1024, rt)
        patch(n, 256 * 1024, rt)
    damaged("g-region-req.vhdx", add_region)
    cases.append("refuse vhdx-unknown-region g-region-req.vhdx "
                 "unknown.required.region.\\{01234567-89ab-cdef-0123-456789abcdef\\}")

    def add_item(n):
        with open(path(n), "rb") as f:
            f.seek(L.meta)
            mt = bytearray(f.read(32 * 1024))
        count = struct.unpack_from("<H", mt, 10)[0]
        struct.pack_into("<16sIII", mt, 32 + 32 * count,
                         uuid.UUID("fedcba98-7654-3210-fedc-ba9876543210").bytes_le,
                         512 * 1024, 8, 4)
        struct.pack_into("<H", mt, 10, count + 1)
        patch(n, L.meta, mt)
    damaged("g-item-req.vhdx", add_item)
    cases.append("refuse vhdx-unknown-metadata g-item-req.vhdx "
                 "unknown.required.metadata.item.\\{fedcba98")
    damaged("g-cut.vhdx", lambda n: os.truncate(path(n), L.bat + 4096))
    cases.append("refuse vhdx-truncated g-cut.vhdx region.lies.outside.the.file")
    # Block 2 past the end of the file, block 4 partially present in a
    # disk without a parent: only they fail.
    damaged("g-badbat.vhdx", lambda n: (
        patch(n, L.bat + 16, struct.pack("<Q", (1 << 40) | 6)),
        patch(n, L.bat + 32, struct.pack("<Q", L.blocks[4] | 7))))
    cases.append(f"eio vhdx-bat-past-end g-badbat.vhdx 0 {2 * MiB} 4096")
    cases.append(f"eio vhdx-partial-without-parent g-badbat.vhdx {3 * MiB} {4 * MiB} 4096")


def vhd_create(img, size, *opts):
    run("qemu-img", "create", "-f", "vpc", *(["-o", ",".join(opts)] if opts else []),
        path(img), str(size))


def vhd_footer_edit(img, fn, both=True):
    """Apply fn to the footer(s) of img (a bytearray), then re-sum them."""
    size = os.path.getsize(path(img))
    with open(path(img), "r+b") as f:
        f.seek(0)
        at0 = f.read(8) == b"conectix"
        for off in ([0] if at0 else []) + ([size - 512] if both or not at0 else []):
            f.seek(off)
            ft = bytearray(f.read(512))
            fn(ft)
            ft[64:68] = b"\0\0\0\0"
            ft[64:68] = struct.pack(">I", ~sum(ft) & 0xffffffff)
            f.seek(off)
            f.write(ft)


def vhd_dyn_header(img):
    with open(path(img), "rb") as f:
        f.seek(16)
        off = struct.unpack(">Q", f.read(8))[0]
        f.seek(off)
        return off, bytearray(f.read(1024))


def vhd_dyn_edit(img, fn, resum=True):
    off, h = vhd_dyn_header(img)
    fn(h)
    if resum:
        h[36:40] = b"\0\0\0\0"
        h[36:40] = struct.pack(">I", ~sum(h) & 0xffffffff)
    patch(img, off, bytes(h))


def vhd_qemu():
    """qemu-img's VHD (qemu calls it vpc): dynamic and fixed, sized by CHS
    geometry (creator "qemu") or by current_size (force_size, "qem2");
    sizes CHS rounds up; the size rule checked both ways by editing the
    creator; a QCOW2 overlay over a VHD base (backing format vpc)."""
    for sub in ("dynamic", "fixed"):
        for size, force in ((10 * MiB, "off"), (37 * MiB + 1536, "off"),
                            (21 * MiB + 512, "on")):
            img = f"vhd-{sub}-{size}-{force}.vhd"
            vhd_create(img, size, f"subformat={sub}", f"force_size={force}")
            real = vdisk_size_fmt(img, "vpc")
            if force == "off" and real == size and size % (17 * 512):
                sys.exit(f"mkimages: qemu kept {size} bytes for {img}, expected CHS rounding")
            qemu_io(img, [f"write -P 0x{rng.randrange(256):02x} 0 512"], fmt="vpc")
            random_writes_fmt(img, real, 25, 3 * MiB, "vpc")
            expect_whole(f"vhd-qemu-{sub}-{size}-force-{force}", img, fmt="vpc")
    # --format vhd or vpc: no probing (a fixed disk has no header to probe).
    line = [c for c in cases if c.startswith("map vhd-qemu-fixed-22020608")][0].split()
    for f in ("vhd", "vpc"):
        cases.append(f"mapopt vhd-format-{f} {line[2]} --format={f} {line[3]} {line[4]}")
    cases.append("refuse-opt vhd-format-wrong vhd-fixed-22020608-on.vhd --format=vhdx "
                 "not.a.vhdx.image")
    # A larger dynamic disk, with blocks left unallocated between writes.
    vhd_create("vhd-big.vhd", 300 * MiB)
    qemu_io("vhd-big.vhd", ["write -P 0x31 0 1M", "write -P 0x32 100M 3M",
                            "write -P 0x33 299M 512k"], fmt="vpc")
    expect_whole("vhd-qemu-dynamic-300m", "vhd-big.vhd", fmt="vpc")

    # current_size unlike the CHS size: the creator decides which is used.
    for app, name in ((b"qemu", "chs"), (b"win ", "current-size"), (b"tap\0", "tap")):
        img = f"vhd-size-{name}.vhd"
        shutil.copy(path("vhd-dynamic-10485760-off.vhd"), path(img))
        vhd_footer_edit(img, lambda ft, app=app: (
            ft.__setitem__(slice(28, 32), app),
            ft.__setitem__(slice(48, 56), struct.pack(">Q", 8 * MiB + 512))))
        got = vdisk_size_fmt(img, "vpc")
        if (got == 8 * MiB + 512) != (name != "chs"):
            sys.exit(f"mkimages: qemu sizes {img} unlike the rule in dm-vdisk.rst")
        expect_whole(f"vhd-size-rule-{name}", img, fmt="vpc")

    # Chains: qcow2 over VHD bases, dynamic and fixed, declared vpc.
    for sub in ("dynamic", "fixed"):
        base = f"vhd-base-{sub}.vhd"
        vhd_create(base, 16 * MiB, f"subformat={sub}", "force_size=on")
        qemu_io(base, ["write -P 0x42 0 16M"], fmt="vpc")
        top = f"vhd-over-{sub}.qcow2"
        run("qemu-img", "create", "-f", "qcow2", "-b", base, "-F", "vpc", path(top))
        qemu_io(top, ["write -P 0x43 1M 64k", "write -P 0x44 9M 2M"], fmt="qcow2")
        expect_whole(f"vhd-qcow2-over-{sub}", top)


def vdisk_size_fmt(img, fmt):
    out = subprocess.run(["qemu-img", "info", "-f", fmt, "--output=json", path(img)],
                         check=True, capture_output=True, cwd=OUT).stdout
    return json.loads(out)["virtual-size"]


def random_writes_fmt(img, size, count, max_len, fmt):
    src = path("random.bin")
    with open(src, "wb") as f:
        f.write(rng.randbytes(max_len))
    cmds = []
    for _ in range(count):
        length = rng.randrange(1, max_len)
        off = rng.randrange(0, size - length)
        if rng.random() < 0.5:
            cmds.append(f"write -s {src} {off} {length}")
        else:
            cmds.append(f"write -P 0x{rng.randrange(256):02x} {off} {length}")
    qemu_io(img, cmds, fmt=fmt)
    os.unlink(src)


def vhd_generated():
    """VHDs qemu-img cannot make, by tests/lib/vhdgen.py: dynamic disks
    with small blocks (checked against qemu-img), and differencing disks
    with each kind of parent locator, whose expected content is the
    generator's model (qemu reads a differencing VHD without its parent)."""
    seed = rng.randrange(1 << 30)

    def fill(v, count, max_len):
        for _ in range(count):
            n = max(rng.randrange(1, max_len) // 512 * 512, 512)
            v.write(rng.randrange(0, v.size - n) // 512 * 512, rng.randbytes(n))

    def expect(name, v, img, parent_bytes=None, qemu=False, opt=None):
        data = v.expected(parent_bytes)
        md5 = hashlib.md5(data).hexdigest()
        if qemu and qemu_md5(img, "vpc") != md5:
            sys.exit(f"mkimages: qemu-img and vhdgen disagree on {img}")
        if opt:
            cases.append(f"mapopt {name} {img} {opt} {len(data)} {md5}")
        else:
            cases.append(f"map {name} {img} {len(data)} {md5}")
        return data

    for bs in (512, 4096, 64 << 10):
        v = vhdgen.Vhd(6 * MiB + 1024, block_size=bs, seed=seed + bs)
        fill(v, 30, 200000)
        v.save(path(f"vg-dyn-{bs}.vhd"))
        expect(f"vhd-gen-dynamic-block-{bs}", v, f"vg-dyn-{bs}.vhd", qemu=True)

    base = vhdgen.Vhd(12 * MiB, block_size=MiB, seed=seed + 1)
    fill(base, 20, 2 * MiB)
    base.save(path("vg-base.vhd"))
    base_bytes = expect("vhd-gen-diff-base", base, "vg-base.vhd", qemu=True)
    child = vhdgen.Vhd(parent=base, block_size=MiB, seed=seed + 2)
    fill(child, 40, 20000)
    child.write(5 * MiB, rng.randbytes(MiB))    # a block whole
    locs = {
        "w2ru": [(vhdgen.W2RU, ".\\vg-base.vhd")],
        "w2ku": [(vhdgen.W2KU, "C:\\Hyper-V\\Disks\\vg-base.vhd")],
        "macx": [(vhdgen.MACX, "file://localhost/Users/me/VMs/vg-base.vhd")],
        # The relative locator is stale; the absolute one's name is found.
        "both": [(vhdgen.W2KU, "D:\\vg-base.vhd"), (vhdgen.W2RU, ".\\moved\\vg-base.vhd")],
    }
    for kind, loc in locs.items():
        child.save(path(f"vg-child-{kind}.vhd"), loc, parent_name="vg-base.vhd")
        child_bytes = expect(f"vhd-gen-diff-{kind}", child, f"vg-child-{kind}.vhd",
                             base_bytes)
    expect("vhd-gen-diff-no-parent", child, "vg-child-w2ru.vhd", opt="--no-parent")
    cases.append("info vhd-gen-diff-info vg-child-macx.vhd "
                 "locator_MacX:./Users/me/VMs/vg-base.vhd")
    grand = vhdgen.Vhd(parent=child, block_size=2 * MiB, seed=seed + 3)
    fill(grand, 30, 10000)
    grand.save(path("vg-grand.vhd"), [(vhdgen.W2RU, ".\\vg-child-w2ru.vhd")])
    expect("vhd-gen-diff-grandchild", grand, "vg-grand.vhd", child_bytes)

    # Refusals: a parent of another identity, missing, or outside the folder.
    child.save(path("vg-wrong-id.vhd"), locs["w2ru"], parent_uuid=bytes(range(16)))
    cases.append("refuse-chain vhd-gen-diff-wrong-id vg-wrong-id.vhd "
                 "has.unique.id.*expected.00010203-0405")
    expect("vhd-gen-diff-ignore-id", child, "vg-wrong-id.vhd", base_bytes,
           opt="--ignore-parent-id")
    child.save(path("vg-orphan.vhd"), [(vhdgen.W2RU, ".\\gone.vhd")])
    cases.append("refuse-chain vhd-gen-diff-orphan vg-orphan.vhd parent.not.found:.*gone.vhd")
    child.save(path("vg-escape.vhd"), [(vhdgen.W2RU, "..\\vg-base.vhd")])
    cases.append("refuse-chain vhd-gen-diff-escape vg-escape.vhd "
                 "outside.the.image's.folder")
    # A bitmap in a differencing disk is read per sector; a block past
    # the end of the file fails alone.
    child.save(path("vg-badbat.vhd"), locs["w2ru"])
    with open(path("vg-badbat.vhd"), "r+b") as f:
        f.seek(1536 + 4 * 7)
        f.write(struct.pack(">I", 0x00ffff00))
    cases.append(f"eio vhd-gen-diff-bat-past-end vg-badbat.vhd 0 {7 * MiB} 4096")


def vhd_damaged():
    """Damaged VHD images: refused, or mapped with EIO where they are."""
    vhd_create("vhd-h.vhd", 10 * MiB, "force_size=on")
    qemu_io("vhd-h.vhd", ["write -P 0x61 0 1M", "write -P 0x62 4M 1M"], fmt="vpc")
    vhd_create("vhd-hf.vhd", 4 * MiB, "subformat=fixed", "force_size=on")

    def damaged(name, src, fn):
        shutil.copy(path(src), path(name))
        fn(name)

    damaged("vhd-bad-footer.vhd", "vhd-h.vhd", lambda i: patch(i, 64, b"\x12\x34\x56\x78"))
    cases.append("refuse vhd-bad-footer-checksum vhd-bad-footer.vhd footer.checksum.mismatch")
    damaged("vhd-bad-fixed.vhd", "vhd-hf.vhd",
            lambda i: patch(i, 4 * MiB + 64, b"\x12\x34\x56\x78"))
    cases.append("refuse vhd-bad-fixed-checksum vhd-bad-fixed.vhd footer.checksum.mismatch")
    damaged("vhd-bad-dyn.vhd", "vhd-h.vhd",
            lambda i: vhd_dyn_edit(i, lambda h: h.__setitem__(slice(36, 40), b"abcd"),
                                   resum=False))
    cases.append("refuse vhd-bad-dyn-checksum vhd-bad-dyn.vhd dynamic.header.checksum")
    damaged("vhd-bad-bs.vhd", "vhd-h.vhd",
            lambda i: vhd_dyn_edit(i, lambda h: h.__setitem__(slice(32, 36),
                                                              struct.pack(">I", 3 * MiB))))
    cases.append("refuse vhd-absurd-block-size vhd-bad-bs.vhd block.size.is.not.a.power")
    damaged("vhd-bad-bat.vhd", "vhd-h.vhd",
            lambda i: vhd_dyn_edit(i, lambda h: h.__setitem__(slice(28, 32),
                                                              struct.pack(">I", 0x7fffffff))))
    cases.append("refuse vhd-table-too-big vhd-bad-bat.vhd allocation.table.lies.past")
    damaged("vhd-bad-type.vhd", "vhd-h.vhd",
            lambda i: vhd_footer_edit(i, lambda ft: ft.__setitem__(slice(60, 64),
                                                                  struct.pack(">I", 5))))
    cases.append("refuse vhd-unknown-type vhd-bad-type.vhd unsupported.VHD.disk.type")
    damaged("vhd-cut.vhd", "vhd-hf.vhd", lambda i: os.truncate(path(i), 3 * MiB))
    cases.append("refuse vhd-fixed-truncated vhd-cut.vhd unrecognised.image.format")

    # Block 2's BAT entry points past the end of the file: only it fails.
    def bat_past_end(i):
        off, h = vhd_dyn_header(i)
        bat = struct.unpack(">Q", h[16:24])[0]
        patch(i, bat + 2 * 4, struct.pack(">I", 0x00ffff00))
    damaged("vhd-bat-past-end.vhd", "vhd-h.vhd", bat_past_end)
    cases.append(f"eio vhd-bat-past-end vhd-bat-past-end.vhd 0 {4 * MiB} 4096")


def partitions():
    """Partitioned disks (MBR, GPT) for vdisk create --partition."""
    size = 24 * MiB
    raw = bytearray(rng.randbytes(size))
    # MBR: partition 1 at 1 MiB, 8 MiB; partition 3 at 12 MiB, 4 MiB.
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), 2048, 16384)
    mbr[478:494] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), 24576, 8192)
    # Partition 2 is extended (16-24 MiB): logical 5 and 6, 2 MiB each.
    mbr[462:478] = struct.pack("<B3sB3sII", 0, bytes(3), 0x05, bytes(3), 32768, 16384)
    mbr[510:512] = b"\x55\xaa"
    raw[:512] = mbr
    for ebr, nxt in ((32768, 8192), (40960, 0)):
        rec = bytearray(512)
        rec[446:462] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), 2048, 4096)
        if nxt:
            rec[462:478] = struct.pack("<B3sB3sII", 0, bytes(3), 0x05, bytes(3), nxt, 8192)
        rec[510:512] = b"\x55\xaa"
        raw[ebr * 512:ebr * 512 + 512] = rec
    logical = ((5, 34816, 4096), (6, 43008, 4096))
    # GPT in a second disk: partition 2 from LBA 4096 to 12287.
    gpt = bytearray(raw)
    pm = bytearray(512)
    pm[446:462] = struct.pack("<B3sB3sII", 0, bytes(3), 0xee, bytes(3), 1, size // 512 - 1)
    pm[510:512] = b"\x55\xaa"
    gpt[:512] = pm
    hdr = bytearray(512)
    struct.pack_into("<8sIIIIQQQQ16sQIII", hdr, 0, b"EFI PART", 0x10000, 92, 0, 0, 1,
                     size // 512 - 1, 34, size // 512 - 34, uuid.uuid4().bytes_le, 2, 128,
                     128, 0)
    gpt[512:1024] = hdr
    gpt[1024:1024 + 128 * 128] = bytes(128 * 128)
    entry = struct.pack("<16s16sQQQ", uuid.UUID("0fc63daf-8483-4772-8e79-3d69d8477de4").bytes_le,
                        uuid.uuid4().bytes_le, 4096, 12287, 0)
    gpt[1024 + 128:1024 + 128 + len(entry)] = entry
    every = {"mbr": [(1, 2048, 16384), (3, 24576, 8192), *logical], "gpt": [(2, 4096, 8192)]}
    for name, data, fmt, n, start, count in (
            ("mbr", raw, "vmdk", 1, 2048, 16384), ("mbr", raw, "vmdk", 3, 24576, 8192),
            ("mbr", raw, "vmdk", 5, 34816, 4096), ("gpt", gpt, "qcow2", 2, 4096, 8192)):
        with open(path(f"{name}.raw"), "wb") as f:
            f.write(data)
        img = f"part-{name}.{fmt}"
        run("qemu-img", "convert", "-f", "raw", "-O", fmt, path(f"{name}.raw"), path(img))
        md5 = hashlib.md5(data[start * 512:(start + count) * 512]).hexdigest()
        cases.append(f"mappart partition-{name}-{n} {img} {n} {count * 512} {md5}")
        if n == every[name][0][0]:
            cases.append(f"parts parts-{name} {img} " + " ".join(
                f"{k}:{c * 512}:{hashlib.md5(data[s * 512:(s + c) * 512]).hexdigest()}"
                for k, s, c in every[name]))
    os.unlink(path("mbr.raw"))
    os.unlink(path("gpt.raw"))
    cases.append("refuse-create partition-missing part-mbr.vmdk --partition=4 "
                 "MBR.partition.4.is.not.in.use")


def mountable():
    """File systems for vdisk mount: one ext4 on a whole disk (qcow2), and
    a disk with two ext4 partitions (VMDK), each holding hello.txt."""
    def fs(label, text):
        d = path(f"fs-{label}")
        os.makedirs(d)
        write_text(f"fs-{label}/hello.txt", text + "\n")
        run("mkfs.ext4", "-q", "-F", "-L", label, "-d", d, path(f"fs-{label}.raw"), "8M")
        shutil.rmtree(d)
        with open(path(f"fs-{label}.raw"), "rb") as f:
            data = f.read()
        os.unlink(path(f"fs-{label}.raw"))
        return data

    whole = fs("whole", "whole disk")
    with open(path("mnt.raw"), "wb") as f:
        f.write(whole)
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", path("mnt.raw"),
        path("mnt-whole.qcow2"))
    disk = bytearray(20 * MiB)
    mbr = bytearray(512)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), 2048, 16384)
    mbr[462:478] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), 20480, 16384)
    mbr[510:512] = b"\x55\xaa"
    disk[:512] = mbr
    disk[MiB:9 * MiB] = fs("one", "partition one")
    disk[10 * MiB:18 * MiB] = fs("two", "partition two")
    with open(path("mnt.raw"), "wb") as f:
        f.write(disk)
    run("qemu-img", "convert", "-f", "raw", "-O", "vmdk", path("mnt.raw"), path("mnt-two.vmdk"))
    os.unlink(path("mnt.raw"))


def vdi():
    """VirtualBox VDI: qemu-img's dynamic and static images, a QCOW2 over
    one; differencing chains and layouts qemu-img cannot write from
    tests/lib/vdigen.py (its model is the expected content, checked against
    qemu-img where qemu reads the image); damaged variants."""
    for size in (MiB, 37 * MiB + 1536, 100 * MiB):
        img = f"vdi-dyn{size}.vdi"
        run("qemu-img", "create", "-f", "vdi", path(img), str(size))
        random_writes(img, size, 30, min(3 * MiB, size // 2))
        expect_whole(f"vdi-dynamic-{size}", img)
    run("qemu-img", "create", "-f", "vdi", "-o", "static=on", path("vdi-static.vdi"),
        str(20 * MiB + 512))
    random_writes("vdi-static.vdi", 20 * MiB + 512, 20, MiB)
    expect_whole("vdi-static", "vdi-static.vdi")
    run("qemu-img", "create", "-f", "vdi", path("vdi-base.vdi"), str(24 * MiB))
    qemu_io("vdi-base.vdi", ["write -P 0x5a 0 8M", "write -z 1M 2M",
                             "write -P 0x11 20M 4096"])
    expect_whole("vdi-zero-writes", "vdi-base.vdi")
    run("qemu-img", "create", "-f", "qcow2", "-b", "vdi-base.vdi", "-F", "vdi",
        path("vdi-top.qcow2"))
    random_writes("vdi-top.qcow2", 24 * MiB, 20, MiB)
    expect_whole("vdi-qcow2-chain", "vdi-top.qcow2")

    def model(name, v, img, parent=None, qemu=False):
        data = v.expected(parent)
        md5 = hashlib.md5(data).hexdigest()
        if qemu and qemu_md5(img) != md5:
            sys.exit(f"mkimages: qemu reads {img} unlike vdigen's model")
        cases.append(f"map {name} {img} {len(data)} {md5}")
        return data

    def fill(v, count, max_len):
        for _ in range(count):
            n = rng.randrange(1, max_len)
            v.write(rng.randrange(0, v.disk_size - n), rng.randbytes(n))

    # A normal image with its blocks in reverse order: qemu reads it too.
    g = vdigen.Vdi(13 * MiB + 512)
    fill(g, 15, MiB)
    g.zero(12)
    g.save(path("vdi-gen.vdi"))
    model("vdi-generated", g, "vdi-gen.vdi", qemu=True)
    # VBoxManage writes disk sizes that are not whole sectors: qemu, and
    # so vdisk, round them up.
    odd = vdigen.Vdi(5 * MiB + 100)
    fill(odd, 6, MiB)
    odd.save(path("vdi-odd.vdi"))
    data = odd.expected() + bytes(412)
    md5 = hashlib.md5(data).hexdigest()
    if qemu_md5("vdi-odd.vdi") != md5:
        sys.exit("mkimages: qemu reads vdi-odd.vdi unlike vdigen's model")
    cases.append(f"map vdi-odd-size vdi-odd.vdi {len(data)} {md5}")

    # Differencing chains, in their own folder: a damaged copy of a base
    # elsewhere would have the same UUID.
    os.makedirs(path("vdi-diff"), exist_ok=True)
    size = 12 * MiB
    run("qemu-img", "create", "-f", "vdi", path("vdi-diff/base.vdi"), str(size))
    random_writes("vdi-diff/base.vdi", size, 20, 2 * MiB)
    with open(qemu_raw("vdi-diff/base.vdi"), "rb") as f:
        base = f.read()
    os.unlink(path("tmp.raw"))
    d1 = vdigen.Vdi(size, kind=vdigen.TYPE_DIFF,
                    link=vdigen.creation_uuid(path("vdi-diff/base.vdi")))
    fill(d1, 8, MiB)
    for b in rng.sample([b for b in range(12) if b not in d1.blocks], 3):
        d1.zero(b)
    d1.save(path("vdi-diff/snap1.vdi"))
    mid = model("vdi-differencing", d1, "vdi-diff/snap1.vdi", base)
    d2 = vdigen.Vdi(size, kind=vdigen.TYPE_DIFF, link=d1.create.bytes_le)
    fill(d2, 5, 300000)
    d2.zero(max(d1.blocks))
    d2.save(path("vdi-diff/snap2.vdi"))
    model("vdi-differencing-2", d2, "vdi-diff/snap2.vdi", mid)
    cases.append("info vdi-differencing-parent vdi-diff/snap2.vdi "
                 f"parent:.*snap1.vdi")
    os.makedirs(path("vdi-orphan"), exist_ok=True)
    o = vdigen.Vdi(size, kind=vdigen.TYPE_DIFF, link=uuid.uuid4().bytes_le)
    o.write(0, b"x" * 4096)
    o.save(path("vdi-orphan/orphan.vdi"))
    cases.append("refuse-chain vdi-differencing-orphan vdi-orphan/orphan.vdi "
                 "parent.not.found:.*vdi-orphan/.*[.]vdi")
    shutil.copy(path("vdi-diff/base.vdi"), path("vdi-orphan/base.vdi"))
    shutil.copy(path("vdi-diff/base.vdi"), path("vdi-orphan/base-copy.vdi"))
    o.link = vdigen.creation_uuid(path("vdi-diff/base.vdi"))
    o.save(path("vdi-orphan/twins.vdi"))
    cases.append("refuse-chain vdi-differencing-ambiguous vdi-orphan/twins.vdi "
                 "both.*base.*base.*have.it")

    # What qemu refuses, vdisk refuses: 2 MiB blocks; block_extra too.
    b2 = vdigen.Vdi(8 * MiB, block_size=2 * MiB)
    b2.write(0, b"y" * 4096)
    b2.save(path("vdi-2m.vdi"))
    if subprocess.run(["qemu-img", "info", path("vdi-2m.vdi")],
                      capture_output=True).returncode == 0:
        sys.exit("mkimages: qemu reads a VDI with 2 MiB blocks now")
    cases.append("refuse vdi-block-2m vdi-2m.vdi block.size")
    g.block_extra = 512
    g.save(path("vdi-extra.vdi"))
    cases.append("refuse vdi-block-extra vdi-extra.vdi block_extra")

    src = "vdi-base.vdi"  # 24 blocks, 9 of them in the file
    bmap = struct.unpack_from("<I", open(path(src), "rb").read(512), 0x154)[0]
    entries = struct.unpack_from("<24I", open(path(src), "rb").read(bmap + 96), bmap)
    used = [b for b, e in enumerate(entries) if e < 0xfffffffe]

    def damaged(name, off, data, kind, arg):
        damaged_copy(src, name, lambda n: patch(n, off, data))
        cases.append(f"{kind} {name.split('.')[0]} {name} {arg}")

    damaged("vdi-badsig.vdi", 0x40, b"\x7f\x10\xda\xbf", "refuse",
            "vdi-badsig.vdi:.*unrecognised.image.format")
    damaged("vdi-huge.vdi", 0x170, struct.pack("<Q", 1 << 62), "refuse",
            "disk.size.out.of.range")
    damaged("vdi-manyblocks.vdi", 0x180, struct.pack("<I", 0x3fffffff), "refuse",
            "block.map.lies.outside")
    damaged("vdi-v10.vdi", 0x44, struct.pack("<I", 0x10000), "refuse",
            "unsupported.VDI.version")
    # Block map entries past the file's end, or past the block count.
    damaged("vdi-pastend.vdi", bmap + used[1] * 4, struct.pack("<I", 23), "eio",
            f"{used[0] * MiB} {used[1] * MiB} 4096")
    damaged("vdi-badindex.vdi", bmap + used[1] * 4, struct.pack("<I", 0x12345678),
            "eio", f"{used[0] * MiB} {used[1] * MiB} 4096")


def vmdk_empty_extent_name():
    """FreeBSD's mkimg names a monolithicSparse image's one extent "" in
    its embedded descriptor: qemu reads the file itself, and so must we.
    Anywhere else an empty extent name is refused."""
    create("mkimg.vmdk", 10 * MiB)
    random_writes("mkimg.vmdk", 10 * MiB, 10, MiB)
    rewrite_desc("mkimg.vmdk", lambda t: re.sub(r'SPARSE "[^"]*"', 'SPARSE ""', t))
    expect_whole("vmdk-mkimg-empty-extent", "mkimg.vmdk")
    damaged_copy("mkimg.vmdk", "mkimg-flat.vmdk", lambda n: rewrite_desc(
        n, lambda t: t.replace('SPARSE ""', 'FLAT "" 0')))
    cases.append("refuse vmdk-empty-extent-flat mkimg-flat.vmdk "
                 "embedded.descriptor:.extent.file.name.is.empty")
    write_text("empty-extent-desc.vmdk", vmdkgen.descriptor(
        0x12121212, "monolithicSparse", [f'RW {10 * MiB // 512} SPARSE ""']))
    cases.append("refuse vmdk-empty-extent-desc empty-extent-desc.vmdk "
                 'extent.file."".is.empty')


def unsupported():
    """Formats qemu reads and vdisk does not (bochs, cloop, dmg) are
    refused by name, not mapped as raw data; qemu-img must see them as
    those formats."""
    h = bytearray(512)
    h[0:23] = b"Bochs Virtual HD Image\0"
    h[32:40] = b"Redolog\0"
    h[48:56] = b"Growing\0"
    struct.pack_into("<IIIIIIQ", h, 64, 0x20000, 512, 4, 1, 4096, 0, 4 * 4096)
    with open(path("other-bochs.img"), "wb") as f:
        f.write(h + b"\xff" * 16 + bytes(496))
    block = zlib.compress(bytes(range(256)) * 2)
    head = b"#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n"
    with open(path("other-cloop.img"), "wb") as f:
        f.write(head.ljust(128, b"\0") + struct.pack(">II", 512, 1) +
                struct.pack(">QQ", 152, 152 + len(block)) + block + bytes(1024))
    # UDIF: the data fork, then the 512-byte "koly" trailer (big-endian).
    koly = bytearray(512)
    struct.pack_into(">4sIII", koly, 0, b"koly", 4, 512, 1)
    struct.pack_into(">QQ", koly, 0x18, 0, 4096)
    with open(path("other-dmg.img"), "wb") as f:
        f.write(bytes(4096) + koly)
    for fmt in ("bochs", "cloop"):
        out = subprocess.run(["qemu-img", "info", "--output=json", path(f"other-{fmt}.img")],
                             capture_output=True, check=True).stdout
        if json.loads(out)["format"] != fmt:
            sys.exit(f"mkimages: qemu-img does not see other-{fmt}.img as {fmt}")
    for fmt in ("bochs", "cloop", "dmg"):
        cases.append(f"refuse unsupported-{fmt} other-{fmt}.img "
                     f"other-{fmt}.img:.{fmt}.image:.format.not.supported")


def corpus():
    """Images made by VMware, ESXi, Windows and qemu, from ../shared/corpus
    (see its MANIFEST.md); qemu-img's reading is the expected content, and
    must be the MANIFEST's md5 too."""
    src = os.environ.get("CORPUS", os.path.join(os.path.dirname(__file__),
                                                "../../../shared/corpus"))
    if not os.path.isdir(src):
        sys.exit(f"mkimages: corpus not found at {src}")
    with open(os.path.join(src, "MANIFEST.md")) as f:
        manifest = f.read()

    def take(rel, name):
        # Written sparse: the guest's data disk stays small.
        full = os.path.join(src, rel)
        opener = gzip.open if full.endswith(".gz") else open
        with opener(full, "rb") as fi, open(path(name), "wb") as fo:
            while chunk := fi.read(65536):
                if any(chunk):
                    fo.write(chunk)
                else:
                    fo.seek(len(chunk), os.SEEK_CUR)
            fo.truncate()

    def expect_corpus(case, img):
        expect_whole(case, img)
        md5 = cases[-1].split()[-1]
        if md5 not in manifest:
            sys.exit(f"mkimages: qemu reads {img} as {md5}, not as MANIFEST.md says")

    def expect_corpus_big(case, img):
        # The guest reads the start, the end, a few spread MiB and the
        # first MiB of the first data extents qemu reports.
        size = vdisk_size(img)
        w = [(0, 4 * MiB), (size - MiB, MiB)]
        w += [(o, MiB) for o in range(64 * MiB, size - MiB, size // 7 // MiB * MiB)]
        out = subprocess.run(["qemu-img", "map", "--output=json", path(img)],
                             check=True, capture_output=True, cwd=OUT).stdout
        data = [e["start"] for e in json.loads(out) if e["data"]]
        w += [(o // MiB * MiB, MiB) for o in data[:8] if o // MiB * MiB + MiB <= size]
        expect_big(case, img, sorted(set(w)))
        md5 = cases[-1].split()[4]
        if md5 not in manifest:
            sys.exit(f"mkimages: qemu reads {img} as {md5}, not as MANIFEST.md says")

    take("dissect.hypervisor/sesparse.vmdk.gz", "sesparse.vmdk")
    take("dissect.hypervisor/sesparse.ADAPTER-descriptor.vmdk", "sesparse-desc.vmdk")
    expect_corpus("corpus-esxi-sesparse", "sesparse-desc.vmdk")
    for name in ("basic", "basic-zstd", "snapshot", "backing-chain-3",
                 "backing-chain-2", "backing-chain-1", "data-file"):
        take(f"dissect.hypervisor/{name}.qcow2.gz", f"{name}.qcow2")
    take("dissect.hypervisor/data-file.bin.gz", "data-file.bin")
    for name in ("basic", "basic-zstd", "snapshot", "backing-chain-1",
                 "backing-chain-2", "backing-chain-3", "data-file"):
        expect_corpus(f"corpus-qcow2-{name}", f"{name}.qcow2")
    for sid in ("1", "2"):
        raw = path("tmp.raw")
        run("qemu-img", "convert", "-l", f"snapshot.id={sid}", "-O", "raw",
            path("snapshot.qcow2"), raw)
        md5 = md5_range(open(raw, "rb"), 0, os.path.getsize(raw))
        if md5 not in manifest:
            sys.exit(f"mkimages: snapshot {sid} reads as {md5}, not as MANIFEST.md says")
        cases.append(f"mapopt corpus-qcow2-snapshot-{sid} snapshot.qcow2 "
                     f"--snapshot={sid} {os.path.getsize(raw)} {md5}")
        os.unlink(raw)
    for name in ("qcow1-plain", "qcow1-compressed"):
        take(f"generated-locally/{name}.qcow", f"{name}.qcow")
        expect_corpus(f"corpus-{name}", f"{name}.qcow")
    for name, whole in (("dynamic", True), ("fixed", True), ("btrfs", False),
                        ("lvm2", False), ("swap", False), ("xfs", False),
                        ("xfs5", False)):
        group = "dissect.hypervisor" if name in ("dynamic", "fixed") else "DiscUtils"
        take(f"{group}/{name}.vhdx.gz", f"w-{name}.vhdx")
        if whole:
            expect_corpus(f"corpus-vhdx-{name}", f"w-{name}.vhdx")
        else:
            expect_corpus_big(f"corpus-vhdx-{name}", f"w-{name}.vhdx")
    # qemu will not replay a log read-only: the expected content is that
    # of a repaired copy, the image mapped is the dirty one.
    take("DiscUtils/vhdx-log-replay.vhdx.gz", "w-log-replay.vhdx")
    shutil.copy(path("w-log-replay.vhdx"), path("w-replayed.vhdx"))
    run("qemu-img", "check", "-q", "-r", "all", path("w-replayed.vhdx"))
    expect_corpus_big("corpus-vhdx-log-replay", "w-replayed.vhdx")
    cases[-1] = cases[-1].replace(" w-replayed.vhdx ", " w-log-replay.vhdx ")
    cases.append("repair corpus-vhdx-log-repair w-log-replay.vhdx " +
                 " ".join(cases[-1].split()[3:5]))
    os.unlink(path("w-replayed.vhdx"))
    # VHD made by Windows ("win ": sized by current_size); the fixed one
    # must be read as vpc, or qemu sees a raw file.
    take("dissect.hypervisor/dynamic.vhd.gz", "w-dynamic.vhd")
    expect_corpus("corpus-vhd-dynamic", "w-dynamic.vhd")
    take("dissect.hypervisor/fixed.vhd.gz", "w-fixed.vhd")
    expect_whole("corpus-vhd-fixed", "w-fixed.vhd", fmt="vpc")
    if cases[-1].split()[-1] not in manifest:
        sys.exit("mkimages: qemu reads w-fixed.vhd unlike MANIFEST.md")
    cases.append("info corpus-vhd-dynamic-info w-dynamic.vhd "
                 "size_from:.current_size")
    take("dissect.hypervisor/differencing.avhdx.gz", "w-differencing.avhdx")
    cases.append("info corpus-vhdx-differencing-info w-differencing.avhdx "
                 "parent_linkage:.\\{ff34003b-11ed-4cf8-a166-b2be05e20b80\\}")
    cases.append("info corpus-vhdx-differencing-path w-differencing.avhdx "
                 "relative_path:.\\.\\\\Generation.1_49C4BAF3-4B25-4406-8C4B-D39E65C32385.avhdx")
    cases.append("refuse-chain corpus-vhdx-differencing w-differencing.avhdx "
                 "parent.not.found:.*Generation.1_49C4BAF3-4B25-4406-8C4B-D39E65C32385.avhdx")
    take("dissect.hypervisor/basic.vdi.gz", "basic.vdi")
    expect_corpus("corpus-vdi-basic", "basic.vdi")
    take("govmomi/ttylinux-pc_i486-16.1-disk1.vmdk", "govmomi-cut.vmdk")
    cases.append("refuse corpus-govmomi-truncated govmomi-cut.vmdk "
                 "truncated.or.damaged.stream")


def cache_limit():
    # 512-byte clusters: every 32 KiB of data written needs its own L2
    # table, 4 MiB of them for the 256 MiB disk.
    raw = path("tmp.raw")
    with open(raw, "wb") as f:
        f.truncate(256 * MiB)
        for off in range(0, 256 * MiB, 32768):
            f.seek(off + rng.randrange(64) * 512)
            f.write(rng.randbytes(512))
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-o", "cluster_size=512",
        raw, path("cache.qcow2"))
    os.unlink(raw)
    raw = qemu_raw("cache.qcow2")
    with open(raw, "rb") as f:
        cases.append(f"cache cache-limit cache.qcow2 {256 * MiB} {md5_range(f, 0, 256 * MiB)}")
    os.unlink(raw)


def kernel_limits():
    # A 2 MiB-cluster QCOW2 without compressed clusters: no decompression
    # buffers (they came to 16 MiB on 2 CPUs).  The target's context,
    # slots and block ring take well under 1 MiB.
    qcow_create("big-cluster.qcow2", 64 * MiB, opts=("cluster_size=2M",))
    qemu_io("big-cluster.qcow2", ["write -P 0x3c 0 3M", "write -P 0x7e 20M 1M"])
    expect_whole("qcow2-2m-clusters-plain", "big-cluster.qcow2")
    cases[-1] = cases[-1].replace("map ", "mem ", 1) + f" {MiB}"
    # Compressed 2 MiB clusters: the buffers stay within their 16 MiB cap
    # (the rest of the target under 1 MiB again).
    raw = path("tmp-c.raw")
    with open(raw, "wb") as f:
        f.truncate(16 * MiB)
        f.write(rng.randbytes(3 * MiB) + b"text " * (MiB // 5))
    run("qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", "-o",
        "cluster_size=2M", raw, path("big-cluster-c.qcow2"))
    os.unlink(raw)
    expect_whole("qcow2-2m-clusters-compressed", "big-cluster-c.qcow2")
    cases[-1] = cases[-1].replace("map ", "mem ", 1) + f" {17 * MiB}"

    # Suspend, change a table entry in the image, resume: the new mapping
    # reads.  Guest cluster 0's L2 entry is made to point at cluster 1's.
    img = "resume.qcow2"
    qcow_create(img, 4 * MiB, opts=("cluster_size=65536",))
    qemu_io(img, ["write -P 0x11 0 64k", "write -P 0x22 64k 64k"])
    l2 = get_be(img, get_be(img, 40, ">Q"), ">Q") & 0x00fffffffffffe00
    entry = struct.pack(">Q", get_be(img, l2 + 8, ">Q"))
    raw = qemu_raw(img)
    with open(raw, "rb") as f:
        before = md5_range(f, 0, 128 * 1024)
    shutil.copy(path(img), path("resume-after.qcow2"))
    patch("resume-after.qcow2", l2, entry)
    raw = qemu_raw("resume-after.qcow2")
    with open(raw, "rb") as f:
        after = md5_range(f, 0, 128 * 1024)
    os.unlink(raw)
    os.unlink(path("resume-after.qcow2"))
    assert before != after
    octal = "".join(f"\\{b:03o}" for b in entry)
    cases.append(f"resume qcow2-suspend-resume {img} {l2} {octal} {128 * 1024} {before} {after}")


def negative():
    with open(path("junk.img"), "wb") as f:
        f.write(rng.randbytes(1 * MiB))
    cases.append("refuse junk junk.img unrecognised.image.format")
    open(path("empty.img"), "wb").close()
    cases.append("refuse empty empty.img file.is.empty")

    # A 33 MiB VMDK whose grain directory names one grain table eight
    # million times: vdisk check finds the overlap within bounds set by the
    # file's size, not by what the header claims.
    create("gtx8m.vmdk", 33 * MiB)
    h = header("gtx8m.vmdk")
    with open(path("gtx8m.vmdk"), "r+b") as f:
        f.seek(h["gd"] * 512)
        gt0 = f.read(4)
        newgd = (os.path.getsize(path("gtx8m.vmdk")) + 511) // 512
        n = 8 << 20
        f.seek(12)
        f.write(struct.pack("<Q", n * h["gtes"] * h["grain"]))
        f.seek(8)
        f.write(struct.pack("<I", h["flags"] & ~2))
        f.seek(48)
        f.write(struct.pack("<QQ", 0, newgd))
        f.seek(newgd * 512)
        f.write(gt0 * n)
    cases.append("checkcost gt-named-8m-times gtx8m.vmdk overlaps")

    # Two grain tables: damage to the first must not affect the second.
    create("base.vmdk", 40 * MiB)
    qemu_io("base.vmdk", ["write -P 0x42 0 4M", "write -P 0x43 33M 1M"])

    def damaged(name, fn, kind, arg):
        damaged_copy("base.vmdk", name, fn)
        cases.append(f"{kind} {name.split('.')[0]} {name} {arg}")

    damaged("badmagic.vmdk", lambda n: patch(n, 0, b"XDMV"), "refuse",
            "badmagic.vmdk:.*unrecognised.image.format")
    damaged("version9.vmdk", lambda n: patch(n, 4, struct.pack("<I", 9)), "refuse",
            "unsupported.VMDK4.version")
    damaged("badgrain.vmdk", lambda n: patch(n, 20, struct.pack("<Q", 96)), "refuse",
            "grain.size")
    h = header("base.vmdk")
    damaged("gdpastend.vmdk", lambda n: patch(n, 56, struct.pack("<Q", 1 << 40)),
            "refuse", "grain.directory.lies.outside")
    damaged("truncated.vmdk",
            lambda n: os.truncate(path(n), h["gd"] * 512), "refuse",
            "grain.directory.lies.outside")

    # Grain 3's table entry points past the end: only it fails.
    gt_off, gt = first_gt("base.vmdk")
    damaged("gtepastend.vmdk",
            lambda n: patch(n, gt_off + 3 * 4, struct.pack("<I", 0x7fffffff)),
            "eio", f"0 {3 * 65536} 4096")
    # A cut-off file: the last grain is cut in half, earlier ones read.
    last = os.path.getsize(path("base.vmdk")) - 32768
    damaged("cutoff.vmdk", lambda n: os.truncate(path(n), last),
            "eio", f"0 {33 * MiB + MiB - 4096} 4096")
    # A grain directory entry past the end: that table's span fails.
    damaged("gdepastend.vmdk",
            lambda n: patch(n, h["gd"] * 512, struct.pack("<I", 0xfffffff0)),
            "eio", f"{33 * MiB} 0 4096")


def qcow2_ext_rewrite(img, kind, data):
    """Replace (data bytes) or drop (data None) header extension kind."""
    with open(img, "r+b") as f:
        h = f.read(4096)
        version, = struct.unpack_from(">I", h, 4)
        off = struct.unpack_from(">I", h, 100)[0] if version >= 3 else 72
        backing = struct.unpack_from(">Q", h, 8)[0]
        exts = []
        while True:
            t, n = struct.unpack_from(">II", h, off)
            if t == 0:
                break
            exts.append((t, h[off + 8:off + 8 + n]))
            off += 8 + (n + 7) // 8 * 8
        exts = [(t, data if t == kind else d) for t, d in exts if t != kind or data]
        start = struct.unpack_from(">I", h, 100)[0] if version >= 3 else 72
        out = b"".join(struct.pack(">II", t, len(d)) + d + bytes(-len(d) % 8)
                       for t, d in exts) + bytes(8)
        assert not backing or start + len(out) <= backing
        f.seek(start)
        f.write(out)


def references():
    """Files named inside images, in refs/ (the guest's cli_refs copies it
    to /tmp/refs): for each kind of reference an image in refs/vm/ naming
    its target in refs/outside/ three ways - "../outside/T", the absolute
    guest path "/tmp/refs/outside/T", and "T-ref", a name in the image's
    folder that the guest makes a symbolic link, FIFO, device node in turn.
    refs/expect.txt: "KIND EXT BYTES MD5 T", the disk as qemu reads the
    "../" form (vhdxgen's model for VHDX).  Also a qcow2 over a raw file
    that it does not declare raw (kind "raw")."""
    vm, outside = path("refs/vm"), path("refs/outside")
    os.makedirs(vm)
    os.makedirs(outside)
    guest = "/tmp/refs/outside/"
    lines = []

    def rrun(*cmd):
        # In refs/vm: qemu finds a data file relative to the working folder.
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=vm)

    def qio(img, size, count):
        cmds = []
        for _ in range(count):
            n = rng.randrange(1, 100000)
            cmds.append(f"write -P 0x{rng.randrange(1, 256):02x} "
                        f"{rng.randrange(0, size - n)} {n}")
        rrun("qemu-io", "-f", img.rsplit(".", 1)[1], *sum((["-c", c] for c in cmds), []),
             img)

    def qemu_md5(img):
        raw = os.path.join(vm, "tmp.raw")
        rrun("qemu-img", "convert", "-O", "raw", img, raw)
        with open(raw, "rb") as f:
            data = f.read()
        os.unlink(raw)
        return f"{len(data)} {hashlib.md5(data).hexdigest()}"

    forms = (("up", "../outside/{}"), ("abs", guest + "{}"), ("ref", "{}-ref"))

    # A VMDK descriptor's FLAT extent.
    with open(os.path.join(outside, "flat.bin"), "wb") as f:
        f.write(rng.randbytes(MiB))
    for form, fmt in forms:
        write_text(f"refs/vm/extent-{form}.vmdk",
                   '# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
                   'parentCID=ffffffff\ncreateType="monolithicFlat"\n'
                   f'RW 2048 FLAT "{fmt.format("flat.bin")}" 0\n')
    lines.append(f"extent vmdk {qemu_md5('extent-up.vmdk')} flat.bin")

    def chain(fmt, target, child, rename):
        """child-up.fmt over ../outside/target; copies renaming it."""
        rrun("qemu-img", "create", "-f", fmt, f"../outside/{target}", str(2 * MiB))
        qio(f"../outside/{target}", 2 * MiB, 8)
        top = f"{child}-up.{fmt}"
        rrun("qemu-img", "create", "-f", fmt, "-b", f"../outside/{target}", "-F", fmt, top)
        qio(top, 2 * MiB, 4)
        for form, name in forms[1:]:
            shutil.copy(os.path.join(vm, top), os.path.join(vm, f"{child}-{form}.{fmt}"))
            rename(f"{child}-{form}.{fmt}", name.format(target))
        lines.append(f"{child} {fmt} {qemu_md5(top)} {target}")

    # A sparse VMDK's parentFileNameHint, a QCOW2 backing file.
    chain("vmdk", "parent.vmdk", "parent",
          lambda img, n: rewrite_desc("refs/vm/" + img, lambda t: re.sub(
              r'parentFileNameHint="[^"]*"', f'parentFileNameHint="{n}"', t)))
    chain("qcow2", "base.qcow2", "backing",
          lambda img, n: rrun("qemu-img", "rebase", "-u", "-b", n, "-F", "qcow2", img))
    chain("qed", "base.qed", "qedbacking",
          lambda img, n: rrun("qemu-img", "rebase", "-u", "-b", n, "-F", "qed", img))

    # A QCOW2 external data file.
    rrun("qemu-img", "create", "-f", "qcow2", "-o", "data_file=../outside/data.bin",
         "data-up.qcow2", str(2 * MiB))
    qio("data-up.qcow2", 2 * MiB, 8)
    for form, fmt in forms[1:]:
        shutil.copy(os.path.join(vm, "data-up.qcow2"), os.path.join(vm, f"data-{form}.qcow2"))
        qcow2_ext_rewrite(os.path.join(vm, f"data-{form}.qcow2"), 0x44415441,
                          fmt.format("data.bin").encode())
    lines.append(f"data qcow2 {qemu_md5('data-up.qcow2')} data.bin")

    # A VHDX parent locator's relative path.
    base = vhdxgen.Vhdx(4 * MiB, block_size=MiB, seed=rng.randrange(1 << 30))
    base.write(0, rng.randbytes(3 * MiB))
    base.save(os.path.join(outside, "base.vhdx"))
    child = vhdxgen.Vhdx(parent=base, block_size=MiB, seed=rng.randrange(1 << 30))
    child.write(MiB + 512, rng.randbytes(70000))
    for form, fmt in forms:
        child.save(os.path.join(vm, f"vhdx-{form}.avhdx"), absolute_win32_path="",
                   relative_path=fmt.format("base.vhdx").replace("/", "\\"))
    data = child.expected()
    lines.append(f"vhdx avhdx {len(data)} {hashlib.md5(data).hexdigest()} base.vhdx")

    # A qcow2 over a raw file it does not declare raw.
    with open(os.path.join(vm, "raw.bin"), "wb") as f:
        f.write(rng.randbytes(2 * MiB))
    rrun("qemu-img", "create", "-f", "qcow2", "-b", "raw.bin", "-F", "raw", "undeclared.qcow2")
    qio("undeclared.qcow2", 2 * MiB, 4)
    qcow2_ext_rewrite(os.path.join(vm, "undeclared.qcow2"), 0xe2792aca, None)
    lines.append(f"raw qcow2 {qemu_md5('undeclared.qcow2')} raw.bin")
    write_text("refs/expect.txt", "\n".join(lines) + "\n")
    cases.append("refuse-chain ref-undeclared-raw refs/vm/undeclared.qcow2 "
                 "no.format.vdisk.knows")
    cases.append("refuse-chain ref-outside refs/vm/backing-abs.qcow2 "
                 "outside.the.image's.folder")


def qed_header(img):
    with open(path(img), "rb") as f:
        h = f.read(64)
    keys = ("magic", "cluster", "table", "header", "features", "compat", "autoclear",
            "l1", "size", "boff", "bsize")
    return dict(zip(keys, struct.unpack("<IIIIQQQQQII", h)))


def qed_l2_entries(img, least=2):
    """(L1 index, L2 index, entry) of every data cluster (with least=1,
    zero clusters too), in order."""
    h = qed_header(img)
    n = h["cluster"] * h["table"] // 8
    out = []
    for i in range(n):
        l2 = get_be(img, h["l1"] + 8 * i, "<Q")
        if l2:
            out += [(i, j, e) for j in range(n)
                    if (e := get_be(img, l2 + 8 * j, "<Q")) >= least]
    return out


def qed():
    """QED as qemu-img and qemu-io write it, and damaged copies."""
    # Cluster sizes from 4 KiB (tables of two clusters: qemu cannot open
    # one-cluster tables) to 1 MiB, and a size not a multiple of the cluster.
    for cl, ts, size in ((4096, 2, 24 * MiB), (65536, 4, 20 * MiB + 7 * 512),
                         (MiB, 16, 24 * MiB)):
        img = f"qed-{cl}.qed"
        qcow_create(img, size, "qed", (f"cluster_size={cl}", f"table_size={ts}"))
        qcow_writes(img, size)
        expect_whole(f"qed-cluster{cl}", img)
    # Zero clusters (L2 entry 1) over data, and zeros written unaligned.
    qcow_create("qed-zero.qed", 16 * MiB, "qed")
    qcow_writes("qed-zero.qed", 16 * MiB, count=10, max_len=2 * MiB)
    qemu_io("qed-zero.qed", ["write -z 1M 2M", "write -z 100000 5000",
                             "write -P 0x5a 12M 64k", "write -z 12M 64k"])
    assert any(e == 1 for _, _, e in qed_l2_entries("qed-zero.qed", 1)), \
        "qemu wrote no zero cluster"
    expect_whole("qed-zero-clusters", "qed-zero.qed")

    # A large sparse disk: 768 L1 entries, L2 tables far apart, windows.
    size = 6 * 1024 * MiB
    qcow_create("qed-big.qed", size, "qed", ("cluster_size=4096", "table_size=4"))
    spots = [0, 2 * 1024 * MiB - 40000, 4 * 1024 * MiB + 12345, size - 100000]
    qemu_io("qed-big.qed", [f"write -P 0x{i + 1:02x} {o} 100000" for i, o in enumerate(spots)])
    expect_windows("qed-large-sparse", "qed-big.qed",
                   [(min(o // MiB * MiB, size - 2 * MiB), 2 * MiB) for o in spots] +
                   [(3 * 1024 * MiB, 4 * MiB)])

    # Chains: QED over QCOW2 (probed), over raw (declared: never probed),
    # over a shorter QED; QCOW2 over QED.
    qcow_create("qed-base.qcow2", 12 * MiB, opts=("cluster_size=4096",))
    qcow_writes("qed-base.qcow2", 12 * MiB)
    qcow_create("qed-over-qcow2.qed", 16 * MiB, "qed", ("cluster_size=65536",),
                backing="qed-base.qcow2", bfmt="qcow2")
    qcow_writes("qed-over-qcow2.qed", 16 * MiB, count=15)
    expect_whole("qed-over-qcow2", "qed-over-qcow2.qed")
    with open(path("qed-base.raw"), "wb") as f:
        f.write(rng.randbytes(6 * MiB))
        f.write(b"QED\0" + bytes(4092))  # looks like QED: must stay raw
    qcow_create("qed-over-raw.qed", 16 * MiB, "qed", backing="qed-base.raw", bfmt="raw")
    assert qed_header("qed-over-raw.qed")["features"] == 5
    qcow_writes("qed-over-raw.qed", 16 * MiB, count=15)
    expect_whole("qed-over-raw", "qed-over-raw.qed")
    qcow_create("qed-mid.qed", 8 * MiB, "qed", ("cluster_size=4096", "table_size=2"))
    qcow_writes("qed-mid.qed", 8 * MiB, count=15)
    qcow_create("qed-over-qed.qed", 16 * MiB, "qed", ("cluster_size=1048576",),
                backing="qed-mid.qed", bfmt="qed")
    qcow_writes("qed-over-qed.qed", 16 * MiB, count=10)
    qemu_io("qed-over-qed.qed", ["write -z 2M 3M"])
    expect_whole("qed-over-qed", "qed-over-qed.qed")
    qcow_create("qcow2-over-qed.qcow2", 20 * MiB, backing="qed-over-qed.qed", bfmt="qed")
    qcow_writes("qcow2-over-qed.qcow2", 20 * MiB, count=15)
    expect_whole("qcow2-over-qed", "qcow2-over-qed.qcow2")

    # The need-check flag (qemu died with the image open): still mapped.
    shutil.copy(path("qed-65536.qed"), path("qed-needcheck.qed"))
    set_be("qed-needcheck.qed", 16, "<Q", 2)
    expect_whole("qed-need-check", "qed-needcheck.qed")
    cases.append("info qed-need-check-info qed-needcheck.qed need_check:.true")
    cases.append("info qed-backing-raw-info qed-over-raw.qed backing_format_no_probe:.true")

    # Refusals: a bad magic, unknown features, absurd cluster and table
    # sizes, a size qemu refuses, a backing file name out of the header.
    for name, off, fmt, val, want in (
            ("magic", 0, "<I", 0x00444552, "not.a.qed.image"),
            ("feature", 16, "<Q", 8, "unknown.QED.feature"),
            ("cluster-small", 4, "<I", 2048, "cluster.size.out.of.range"),
            ("cluster-huge", 4, "<I", 1 << 27, "cluster.size.out.of.range"),
            ("cluster-odd", 4, "<I", 3 * 65536, "cluster.size.out.of.range"),
            ("table-size", 8, "<I", 3, "table.size.out.of.range"),
            ("table-huge", 8, "<I", 32, "table.size.out.of.range"),
            ("image-size", 48, "<Q", 16 * MiB + 100, "image.size"),
            ("l1-outside", 40, "<Q", 1 << 40, "L1.table.lies.outside"),
            ("backing-name", 56, "<I", 65530, "backing.file.name.out.of.range")):
        img = f"qed-bad-{name}.qed"
        shutil.copy(path("qed-over-raw.qed"), path(img))
        set_be(img, off, fmt, val)
        if name == "magic":
            cases.append(f"refuse-opt qed-bad-{name} {img} --format=qed {want}")
        else:
            cases.append(f"refuse qed-bad-{name} {img} {want}")
    # Missing backing file; one that escapes the image's folder.
    shutil.copy(path("qed-over-qed.qed"), path("qed-orphan.qed"))
    run("qemu-img", "rebase", "-u", "-b", "qed-gone.qed", "-F", "qed", path("qed-orphan.qed"))
    cases.append("refuse-chain qed-orphan qed-orphan.qed parent.not.found:.*qed-gone.qed")
    # (The guest has /data/lib.sh next to /data/images.)
    shutil.copy(path("qed-over-qed.qed"), path("qed-escape.qed"))
    run("qemu-img", "rebase", "-u", "-b", "../lib.sh", "-F", "qed", path("qed-escape.qed"))
    cases.append("refuse-chain qed-backing-escapes qed-escape.qed "
                 "outside.the.image's.folder")

    # Damaged tables: an L2 entry past the end of the file, one not
    # aligned to a cluster, an L1 entry past the end (a 4 MiB span with
    # 4 KiB clusters and two-cluster tables): only those spans fail.
    for name, src, value in (("l2-past-end", "qed-65536.qed", 1 << 40),
                             ("l2-misaligned", "qed-65536.qed", None)):
        img = f"qed-{name}.qed"
        shutil.copy(path(src), path(img))
        h = qed_header(img)
        n = h["cluster"] * h["table"] // 8
        ents = qed_l2_entries(img)
        (i, j, e), (gi, gj, _) = ents[0], ents[-1]
        l2 = get_be(img, h["l1"] + 8 * i, "<Q")
        set_be(img, l2 + 8 * j, "<Q", value or e + 512)
        cases.append(f"eio qed-{name} {img} {(gi * n + gj) * h['cluster']} "
                     f"{(i * n + j) * h['cluster']} 4096")
    img = "qed-l1-past-end.qed"
    shutil.copy(path("qed-4096.qed"), path(img))
    h = qed_header(img)
    used = sorted({i for i, _, _ in qed_l2_entries(img)})
    set_be(img, h["l1"] + 8 * used[0], "<Q", 1 << 40)
    cases.append(f"eio qed-l1-past-end {img} {used[-1] * 4 * MiB} {used[0] * 4 * MiB} 4096")


def parallels_bat(img):
    """(index, entry) of every allocated cluster, and the cluster bytes."""
    with open(path(img), "rb") as f:
        h = f.read(64)
        tracks, n = struct.unpack_from("<II", h, 28)
        bat = struct.unpack(f"<{n}I", f.read(4 * n))
    return [(i, e) for i, e in enumerate(bat) if e], tracks * 512


def expect_generated(name, img, want):
    """A generated image: qemu must read it as the generator wrote it."""
    assert qemu_md5(img, "parallels") == hashlib.md5(want).hexdigest(), img
    cases.append(f"map {name} {img} {len(want)} {hashlib.md5(want).hexdigest()}")


def parallels():
    """Parallels images: qemu-img's ("WithouFreSpacExt", BAT in clusters),
    parallelsgen's for the rest, and damaged copies."""
    # qemu-img: cluster sizes 4 KiB to 1 MiB (the default), and 63 sectors,
    # which is not a power of two.
    for cl, size in ((4096, 16 * MiB), (65536, 20 * MiB + 7 * 512), (32256, 12 * MiB),
                     (MiB, 24 * MiB)):
        img = f"prl-{cl}.hds"
        qcow_create(img, size, "parallels", (f"cluster_size={cl}",))
        qcow_writes(img, size, "parallels")
        expect_whole(f"parallels-cluster{cl}", img, "parallels")

    # A large sparse disk: a 24 KiB BAT read entry by entry, windows.
    size = 6 * 1024 * MiB
    qcow_create("prl-big.hds", size, "parallels")
    spots = [0, 2 * 1024 * MiB - 40000, 4 * 1024 * MiB + 12345, size - 100000]
    qemu_io("prl-big.hds", [f"write -P 0x{i + 1:02x} {o} 100000" for i, o in enumerate(spots)],
            "parallels")
    expect_windows("parallels-large-sparse", "prl-big.hds",
                   [(min(o // MiB * MiB, size - 2 * MiB), 2 * MiB) for o in spots] +
                   [(3 * 1024 * MiB, 4 * MiB)])

    # Generated: version 1 (BAT in sectors, clusters at any sector) with
    # 63-sector clusters; its nb_sectors' high half set, which only counts
    # in Ext images; the in-use mark and a format extension; a ploop-like
    # image (Virtuozzo: Ext, 1 MiB clusters, data at 1 MiB, sparse).
    def fill(im, count, max_len):
        for _ in range(count):
            n = rng.randrange(1, max_len)
            off = rng.randrange(0, im.size - n)
            im.write(off, rng.randbytes(n) if rng.random() < 0.5 else
                     bytes([rng.randrange(256)]) * n)

    for name, kw in (("parallels-v1-63", dict(tracks=63, ext=False)),
                     ("parallels-v1-2048", dict(tracks=2048, ext=False, data_off=0)),
                     ("parallels-v1-nb-high", dict(tracks=16, ext=False, nb_high=5)),
                     ("parallels-inuse-ext", dict(tracks=128, inuse=parallelsgen.INUSE,
                                                  format_ext=True)),
                     ("parallels-ploop", dict(tracks=2048, data_off=2048))):
        size = 64 * MiB if name == "parallels-ploop" else 10 * MiB
        im = parallelsgen.Parallels(size, seed=rng.randrange(1 << 30), **kw)
        fill(im, 6 if name == "parallels-ploop" else 25, 300000)
        im.save(path(f"{name}.hds"))
        expect_generated(name, f"{name}.hds", im.expected())
    cases.append("info parallels-inuse-info parallels-inuse-ext.hds in_use:.true")
    cases.append("info parallels-v1-info parallels-v1-63.hds WithoutFreeSpace")

    # Refusals: a bad magic, another version, absurd cluster sizes, an
    # empty disk, a BAT the file cannot hold.
    for name, off, fmt, val, want in (
            ("magic", 0, "<I", 0x41414141, "not.a.parallels.image"),
            ("version", 16, "<I", 3, "unsupported.Parallels.version"),
            ("tracks-zero", 28, "<I", 0, "cluster.size.out.of.range"),
            ("tracks-huge", 28, "<I", 0x7fffffff // 512, "cluster.size.out.of.range"),
            ("size-zero", 36, "<Q", 0, "disk.size.out.of.range"),
            ("bat-past-end", 32, "<I", 0xffffffff, "BAT.lies.past.the.end")):
        img = f"prl-bad-{name}.hds"
        shutil.copy(path("prl-65536.hds"), path(img))
        set_be(img, off, fmt, val)
        if name == "bat-past-end":
            set_be(img, 36, "<Q", 1 << 40)
        if name == "magic":
            cases.append(f"refuse-opt prl-bad-{name} {img} --format=parallels {want}")
        else:
            cases.append(f"refuse prl-bad-{name} {img} {want}")

    # Damaged BAT entries: past the end of the file (Ext), into the header
    # and BAT (version 1): only those clusters fail.
    for name, src, value in (("past-end", "prl-65536.hds", 1 << 30),
                             ("into-header", "parallels-v1-63.hds", 1)):
        img = f"prl-bat-{name}.hds"
        shutil.copy(path(src), path(img))
        ents, cl = parallels_bat(img)
        (bad, _), (good, _) = ents[0], ents[-1]
        set_be(img, 64 + 4 * bad, "<I", value)
        cases.append(f"eio prl-bat-{name} {img} {good * cl} {bad * cl} 4096")


def mixed_vhd_vhdx():
    """Differencing chains that mix VHD and VHDX, which Hyper-V does not
    make: a VHDX child over a VHD base and over a VHD differencing disk,
    and a VHD child over a VHDX base.  A child records its parent's GUID as
    its own format's children do (a VHDX's parent_linkage, a VHD's parent
    UUID) and vdisk compares it with the parent's (a VHD's unique id, a
    VHDX's data write GUID).  The expected content is vhdgen's and
    vhdxgen's models.  Its own seed, and called last: the images made
    before it do not change."""
    seed = rng.randrange(1 << 30)
    r = random.Random(seed)

    def fill(v, size, count, max_len):
        for _ in range(count):
            n = max(r.randrange(1, max_len) // 512 * 512, 512)
            v.write(r.randrange(0, size - n) // 512 * 512, r.randbytes(n))

    def vhd_as_parent(v, img):
        # What vhdxgen needs of a parent: size, file and linkage GUID.
        return types.SimpleNamespace(path=img, virtual_size=v.size,
                                     data_write_guid=uuid.UUID(bytes=v.uuid))

    def expect(name, img, data, opt=None):
        md5 = hashlib.md5(data).hexdigest()
        if opt:
            cases.append(f"mapopt {name} {img} {opt} {len(data)} {md5}")
        else:
            cases.append(f"map {name} {img} {len(data)} {md5}")

    base = vhdgen.Vhd(20 * MiB, block_size=2 * MiB, seed=seed)
    fill(base, base.size, 20, 2 * MiB)
    base.save(path("xv-base.vhd"))
    base_bytes = base.expected()
    if qemu_md5("xv-base.vhd", "vpc") != hashlib.md5(base_bytes).hexdigest():
        sys.exit("mkimages: qemu-img and vhdgen disagree on xv-base.vhd")

    # A VHDX child over the VHD: partially and fully present, zero blocks.
    child = vhdxgen.Vhdx(parent=vhd_as_parent(base, "xv-base.vhd"), block_size=MiB,
                         seed=seed + 1)
    fill(child, child.virtual_size, 30, 60000)
    child.write(3 * MiB, r.randbytes(MiB))
    child.write(9 * MiB + 512, r.randbytes(4096), full=True)
    child.zero_block(12)
    child.save(path("xv-child.avhdx"))
    child_bytes = child.expected(base_bytes)
    expect("vhdx-gen-diff-over-vhd", "xv-child.avhdx", child_bytes)
    # A linkage that is not the VHD's unique id: refused, or ignored.
    child.save(path("xv-linkage.avhdx"),
               parent_linkage="{%s}" % uuid.UUID(int=r.getrandbits(128), version=4))
    cases.append("refuse-chain vhdx-gen-diff-over-vhd-linkage xv-linkage.avhdx "
                 "has.unique.id.*expected")
    expect("vhdx-gen-diff-over-vhd-ignore-id", "xv-linkage.avhdx", child_bytes,
           opt="--ignore-parent-id")

    # Three levels: a VHDX over a VHD differencing disk over the VHD base.
    mid = vhdgen.Vhd(parent=base, block_size=MiB, seed=seed + 2)
    fill(mid, mid.size, 25, 30000)
    mid.save(path("xv-mid.vhd"), [(vhdgen.W2RU, ".\\xv-base.vhd")],
             parent_name="xv-base.vhd")
    mid_bytes = mid.expected(base_bytes)
    top = vhdxgen.Vhdx(parent=vhd_as_parent(mid, "xv-mid.vhd"), block_size=2 * MiB,
                       seed=seed + 3)
    fill(top, top.virtual_size, 25, 40000)
    top.save(path("xv-top.avhdx"))
    expect("vhdx-gen-diff-over-vhd-chain", "xv-top.avhdx", top.expected(mid_bytes))

    # A VHD child over a VHDX base: its parent UUID is the data write GUID.
    vbase = vhdxgen.Vhdx(16 * MiB, block_size=MiB, seed=seed + 4)
    for _ in range(15):
        n = max(r.randrange(1, MiB) // 512 * 512, 512)
        vbase.write(r.randrange(0, vbase.virtual_size - n) // 512 * 512, r.randbytes(n))
    vbase.save(path("xv-vbase.vhdx"))
    vfill = vbase.expected()
    raw = qemu_raw("xv-vbase.vhdx")
    with open(raw, "rb") as f:
        if hashlib.md5(f.read()).hexdigest() != hashlib.md5(vfill).hexdigest():
            sys.exit("mkimages: qemu-img and vhdxgen disagree on xv-vbase.vhdx")
    os.unlink(raw)
    vparent = types.SimpleNamespace(size=vbase.virtual_size,
                                    uuid=vbase.data_write_guid.bytes)
    vchild = vhdgen.Vhd(parent=vparent, block_size=MiB, seed=seed + 5)
    fill(vchild, vchild.size, 25, 40000)
    vchild.save(path("xv-vchild.vhd"), [(vhdgen.W2RU, ".\\xv-vbase.vhdx")],
                parent_name="xv-vbase.vhdx")
    expect("vhd-gen-diff-over-vhdx", "xv-vchild.vhd", vchild.expected(vfill))
    vchild.save(path("xv-vwrong.vhd"), [(vhdgen.W2RU, ".\\xv-vbase.vhdx")],
                parent_uuid=bytes(range(16)))
    cases.append("refuse-chain vhd-gen-diff-over-vhdx-wrong-id xv-vwrong.vhd "
                 "has.data.write.GUID.*expected.00010203-0405")


os.makedirs(OUT, exist_ok=True)
positive()
vmdk_family()
stream()
esxi()
qcow()
vhdx_qemu()
vhdx_generated()
vhd_qemu()
vhd_generated()
vhd_damaged()
vdi()
unsupported()
vmdk_empty_extent_name()
partitions()
mountable()
corpus()
cache_limit()
references()
kernel_limits()
negative()
qed()
parallels()
mixed_vhd_vhdx()  # last: its images must not shift the rng of those before
os.unlink(path("base.vmdk"))
with open(path("cases.txt"), "w") as f:
    f.write("\n".join(cases) + "\n")
