# SPDX-License-Identifier: GPL-2.0
"""Parallels expandable images, written from the format's description
(qemu's docs/interop/parallels.txt) for what qemu-img cannot write: the
version 1 "WithoutFreeSpace" signature whose BAT counts sectors, the in-use
mark, a format extension cluster, Virtuozzo ploop's 1 MiB-cluster layout.

expected() is the disk as written, kept in a bytearray by write(): it is
never read back from the image, so it checks the decoder independently.
"""
import hashlib
import random
import struct

MAGIC_V1 = b"WithoutFreeSpace"
MAGIC_EXT = b"WithouFreSpacExt"
INUSE = 0x746F6E59
CLOSED = 0x312E3276
EXT_MAGIC = 0xAB234CEF23DCEA87


class Parallels:
    def __init__(self, size, tracks=2048, ext=True, inuse=CLOSED, data_off=None,
                 heads=16, nb_high=0, format_ext=False, seed=1):
        assert size % 512 == 0
        self.size, self.tracks, self.ext = size, tracks, ext
        self.inuse, self.heads, self.nb_high = inuse, heads, nb_high
        self.format_ext = format_ext
        self.cl = tracks * 512
        self.n = -(-size // self.cl)
        self.disk = bytearray(size)
        self.alloc = set()
        self.rng = random.Random(seed)
        bat_end = -(-(64 + 4 * self.n) // 512)
        if data_off is None:
            # Ext images keep the data area cluster aligned; version 1
            # ones may start it right after the BAT.
            data_off = -(-bat_end // tracks) * tracks if ext else bat_end
        self.data_off = data_off
        # data_off 0 (the header leaves the data area unsaid) still puts
        # the data after the BAT.
        self.first = max(data_off, bat_end)

    def write(self, off, data):
        assert off + len(data) <= self.size
        self.disk[off:off + len(data)] = data
        for c in range(off // self.cl, (off + len(data) - 1) // self.cl + 1):
            self.alloc.add(c)

    def expected(self):
        return bytes(self.disk)

    def save(self, path):
        """Clusters in a shuffled order; in version 1 images, a few spare
        sectors between them (BAT entries are sector numbers there)."""
        order = sorted(self.alloc)
        self.rng.shuffle(order)
        bat = [0] * self.n
        pos = self.first  # sectors
        body = []
        for c in order:
            if not self.ext:
                pos += self.rng.randrange(4)
            bat[c] = pos // self.tracks if self.ext else pos
            chunk = bytes(self.disk[c * self.cl:(c + 1) * self.cl])
            body.append((pos, chunk + bytes(self.cl - len(chunk))))
            pos += self.tracks
        ext_off = 0
        if self.format_ext:
            ext_off = pos
            # Only "End of features" after the magic and the checksum.
            cluster = bytearray(self.cl)
            struct.pack_into("<Q", cluster, 0, EXT_MAGIC)
            cluster[8:24] = hashlib.md5(cluster[24:]).digest()
            body.append((pos, bytes(cluster)))
            pos += self.tracks
        sectors = self.size // 512
        cyl = max(1, sectors // (self.heads * self.tracks))
        hdr = struct.pack("<16sIIIIIQIIIQ", MAGIC_EXT if self.ext else MAGIC_V1, 2,
                          self.heads, cyl, self.tracks, self.n,
                          sectors | self.nb_high << 32, self.inuse, self.data_off,
                          0, ext_off)
        with open(path, "wb") as f:
            f.write(hdr + struct.pack(f"<{self.n}I", *bat))
            for p, chunk in body:
                f.seek(p * 512)
                f.write(chunk)
            f.truncate(max(pos, self.data_off) * 512)
