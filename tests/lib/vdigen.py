# SPDX-License-Identifier: GPL-2.0
"""A writer for VDI images qemu-img cannot make (differencing images, other
block sizes, damaged variants), from VirtualBox's published header layout.

The expected content of an image comes from Vdi.expected(), a model of the
disk kept while writing it: it never reads the file back, so it does not
share the decoder's mistakes.
"""
import struct
import uuid

SECTOR = 512
SIGNATURE = 0xbeda107f
FREE = 0xffffffff
ZERO = 0xfffffffe
TYPE_NORMAL, TYPE_FIXED, TYPE_DIFF = 1, 2, 4


class Vdi:
    def __init__(self, disk_size, block_size=1 << 20, kind=TYPE_NORMAL,
                 link=None):
        self.disk_size = disk_size
        self.block_size = block_size
        self.kind = kind
        self.nblocks = -(-disk_size // block_size)
        self.create = uuid.uuid4()
        self.link = link  # the parent's creation UUID (differencing)
        self.blocks = {}  # block -> bytes, or "zero"
        self.block_extra = 0

    def write(self, off, data):
        """Write data at byte off: its blocks are allocated whole."""
        while data:
            b, o = divmod(off, self.block_size)
            n = min(len(data), self.block_size - o)
            cur = self.blocks.get(b)
            if not isinstance(cur, bytearray):
                cur = bytearray(self.block_size)
                self.blocks[b] = cur
            cur[o:o + n] = data[:n]
            off, data = off + n, data[n:]

    def zero(self, block):
        self.blocks[block] = "zero"

    def expected(self, parent=None):
        """The disk's bytes: free blocks from parent (or zeros)."""
        out = bytearray(parent[:self.disk_size] if parent else bytes(self.disk_size))
        out += bytes(self.disk_size - len(out))
        for b, v in self.blocks.items():
            start = b * self.block_size
            n = min(self.block_size, self.disk_size - start)
            out[start:start + n] = bytes(n) if v == "zero" else v[:n]
        return bytes(out)

    def save(self, path, order=None):
        """Write the file; data blocks in order (default: reversed), so
        the block map is not the identity."""
        bmap_off = 0x200
        data_off = bmap_off + -(-self.nblocks * 4 // SECTOR) * SECTOR
        data_off = -(-data_off // 4096) * 4096
        bmap = [FREE] * self.nblocks
        placed = order or sorted((b for b, v in self.blocks.items() if v != "zero"),
                                 reverse=True)
        for b, v in self.blocks.items():
            if v == "zero":
                bmap[b] = ZERO
        for i, b in enumerate(placed):
            bmap[b] = i
        h = bytearray(SECTOR)
        h[0:64] = b"<<< dm-vdisk test VirtualBox Disk Image >>>\n".ljust(64, b"\0")
        struct.pack_into("<IIIII", h, 0x40, SIGNATURE, 0x00010001, 0x190,
                         self.kind, 0)
        struct.pack_into("<IIIIIIIQIIII", h, 0x154, bmap_off, data_off, 0, 0, 0,
                         SECTOR, 0, self.disk_size, self.block_size,
                         self.block_extra, self.nblocks, len(placed))
        h[0x188:0x198] = self.create.bytes_le
        h[0x198:0x1a8] = uuid.uuid4().bytes_le
        if self.link:
            h[0x1a8:0x1b8] = self.link
            h[0x1b8:0x1c8] = uuid.uuid4().bytes_le
        with open(path, "wb") as f:
            f.write(h)
            f.write(struct.pack(f"<{self.nblocks}I", *bmap))
            for b in placed:
                f.seek(data_off + bmap[b] * self.block_size)
                f.write(self.blocks[b])
            f.truncate(data_off + len(placed) * self.block_size)


def creation_uuid(path):
    """The creation UUID of a VDI file, as stored (16 bytes)."""
    with open(path, "rb") as f:
        f.seek(0x188)
        return f.read(16)
