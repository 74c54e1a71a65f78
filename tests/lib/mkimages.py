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
  eio NAME FILE GOOD_OFF BAD_OFF LEN  reading at GOOD works, at BAD fails
"""
import hashlib
import os
import random
import shutil
import struct
import subprocess
import sys

OUT = sys.argv[1]
rng = random.Random(int(os.environ.get("VDISK_TEST_SEED", "20261123")))
cases = []
MiB = 1 << 20


def run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def path(name):
    return os.path.join(OUT, name)


def qemu_raw(img, fmt="vmdk"):
    raw = path("tmp.raw")
    run("qemu-img", "convert", "-f", fmt, "-O", "raw", path(img), raw)
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


def expect_whole(name, img, fmt="vmdk"):
    raw = qemu_raw(img, fmt)
    size = os.path.getsize(raw)
    with open(raw, "rb") as f:
        cases.append(f"map {name} {img} {size} {md5_range(f, 0, size)}")
    os.unlink(raw)


def expect_windows(name, img, windows):
    raw = qemu_raw(img)
    size = os.path.getsize(raw)
    with open(raw, "rb") as f:
        w = [f"{o}:{n}:{md5_range(f, o, n)}" for o, n in windows]
    cases.append(f"win {name} {img} {size} " + " ".join(w))
    os.unlink(raw)


def qemu_io(img, cmds, fmt="vmdk"):
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


def negative():
    with open(path("junk.img"), "wb") as f:
        f.write(rng.randbytes(1 * MiB))
    cases.append("refuse junk junk.img unrecognised.image.format")
    open(path("empty.img"), "wb").close()
    cases.append("refuse empty empty.img file.is.empty")

    # Two grain tables: damage to the first must not affect the second.
    create("base.vmdk", 40 * MiB)
    qemu_io("base.vmdk", ["write -P 0x42 0 4M", "write -P 0x43 33M 1M"])

    def damaged(name, fn, kind, arg):
        shutil.copy(path("base.vmdk"), path(name))
        fn(name)
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


os.makedirs(OUT, exist_ok=True)
positive()
negative()
os.unlink(path("base.vmdk"))
with open(path("cases.txt"), "w") as f:
    f.write("\n".join(cases) + "\n")
