# SPDX-License-Identifier: GPL-2.0
"""VHD images qemu-img cannot make, written from Microsoft's VHD format
specification: differencing disks with each kind of parent locator, and
dynamic disks with any block size.

A Vhd models the guest disk; expected() derives the guest view from the
model, never from the file written.  A dynamic disk reads an allocated
block whole (qemu does not look at its sector bitmap); a differencing disk
reads a sector from its block only where the bitmap bit is set.
"""
import random
import struct
import uuid

MiB = 1 << 20
FIXED, DYNAMIC, DIFFERENCING = 2, 3, 4
W2RU, W2KU, MACX = b"W2ru", b"W2ku", b"MacX"
VHD_EPOCH = 946684800


def _up(n, a):
    return -(-n // a) * a


def _sum(b):
    return ~sum(b) & 0xFFFFFFFF


class Vhd:
    def __init__(self, size=None, parent=None, block_size=2 * MiB, seed=0,
                 creator=b"win "):
        self.rng = random.Random(seed)
        self.parent = parent
        self.size = parent.size if parent else size
        assert self.size % 512 == 0
        self.block_size = block_size
        self.creator = creator
        self.type = DIFFERENCING if parent else DYNAMIC
        self.uuid = uuid.UUID(int=self.rng.getrandbits(128), version=4).bytes
        self.blocks = {}    # block -> [bytearray data, list of sector bits]
        sectors = block_size // 512
        if self.type == DIFFERENCING:
            self.bitmap_bytes = _up(-(-sectors // 8), 512)
        else:   # qemu's size: none below 4 KiB blocks
            self.bitmap_bytes = _up(block_size // 4096, 512)

    def _block(self, b):
        if b not in self.blocks:
            # Stale bytes where the bitmap says the parent is read.
            self.blocks[b] = [bytearray(self.rng.randbytes(self.block_size)),
                              [False] * (self.block_size // 512)]
        return self.blocks[b]

    def write(self, offset, data):
        """Whole sectors at a sector-aligned offset."""
        assert offset % 512 == 0 and len(data) % 512 == 0
        for i in range(0, len(data), 512):
            pos = offset + i
            blk = self._block(pos // self.block_size)
            o = pos % self.block_size
            blk[0][o:o + 512] = data[i:i + 512]
            blk[1][o // 512] = True

    def expected(self, parent_bytes=None):
        """The guest disk: parent_bytes (zeros if None) under this layer."""
        if self.type == DIFFERENCING and parent_bytes is None:
            parent_bytes = bytes(self.size)
        out = bytearray(parent_bytes if parent_bytes is not None else bytes(self.size))
        assert len(out) == self.size
        for b, (data, bits) in self.blocks.items():
            base = b * self.block_size
            for s, bit in enumerate(bits):
                pos = base + s * 512
                if pos >= self.size:
                    break
                if bit or self.type == DYNAMIC:
                    out[pos:pos + 512] = data[s * 512:s * 512 + 512]
        return bytes(out)

    def _footer(self, data_offset):
        cyl, heads, spt = 65535, 16, 255
        f = struct.pack(">8sIIQI4sHH4sQQHBBII16sB", b"conectix", 2, 0x10000,
                        data_offset, 0, self.creator, 10, 0, b"Wi2k",
                        self.size, self.size, cyl, heads, spt, self.type, 0,
                        self.uuid, 0)
        f = bytearray(f.ljust(512, b"\0"))
        f[64:68] = struct.pack(">I", _sum(f))
        return bytes(f)

    def save(self, path, locators=(), parent_uuid=None, parent_name=""):
        """locators: (code, path) pairs; W2ru/W2ku paths are written as
        UTF-16LE, MacX ones as UTF-8 file URLs (written as given)."""
        entries = -(-self.size // self.block_size)
        bat_off = 1536
        pos = _up(bat_off + entries * 4, 512)
        locs = []
        for code, p in locators:
            data = p.encode("utf-8" if code == MACX else "utf-16-le")
            locs.append((code, pos, data))
            pos += _up(len(data), 512)
        order = list(self.blocks)
        self.rng.shuffle(order)
        bat = [0xFFFFFFFF] * entries
        body = []
        for b in order:
            data, bits = self.blocks[b]
            bat[b] = pos // 512
            bm = bytearray(self.bitmap_bytes)
            for s, bit in enumerate(bits):
                if bit and self.type == DIFFERENCING:
                    bm[s // 8] |= 0x80 >> (s % 8)
            if self.type == DYNAMIC and self.bitmap_bytes:
                bm = bytearray(b"\xff" * self.bitmap_bytes)
            body.append((pos, bytes(bm) + bytes(data)))
            pos += self.bitmap_bytes + self.block_size
        h = bytearray(1024)
        struct.pack_into(">8sQQIII", h, 0, b"cxsparse", 0xFFFFFFFFFFFFFFFF,
                         bat_off, 0x10000, entries, self.block_size)
        if self.type == DIFFERENCING:
            h[40:56] = parent_uuid if parent_uuid is not None else self.parent.uuid
            name = parent_name.encode("utf-16-be")[:512]
            h[64:64 + len(name)] = name
            for i, (code, off, data) in enumerate(locs):
                struct.pack_into(">4sIIIQ", h, 576 + 24 * i, code,
                                 _up(len(data), 512) // 512, len(data), 0, off)
        h[36:40] = struct.pack(">I", _sum(h))
        foot = self._footer(512)
        with open(path, "wb") as f:
            f.write(foot)
            f.write(h)
            f.seek(bat_off)
            f.write(struct.pack(f">{entries}I", *bat))
            for code, off, data in locs:
                f.seek(off)
                f.write(data)
            for off, blob in body:
                f.seek(off)
                f.write(blob)
            f.seek(pos)
            f.write(foot)
