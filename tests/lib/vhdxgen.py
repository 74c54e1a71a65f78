# SPDX-License-Identifier: GPL-2.0
"""VHDX images qemu-img cannot make, written from MS-VHDX.

Differencing chains, 4096-byte logical sectors, every BAT state and dirty
logs.  A Vhdx models the guest disk; expected() derives the guest view
from the model, never from the file written.
"""
import os
import random
import struct
import subprocess
import sys
import types
import uuid

KiB, MiB = 1 << 10, 1 << 20
NOT_PRESENT, UNDEFINED, ZERO, UNMAPPED = 0, 1, 2, 3
FULLY_PRESENT, PARTIALLY_PRESENT, SB_PRESENT = 6, 7, 6
LOG_SEQ = 0xFFFFFFFF  # the active sequence carries into the high word
(BAT_REGION, META_REGION, FILE_PARAMS, DISK_SIZE, PAGE83, LOGICAL_SECTOR,
 PHYSICAL_SECTOR, PARENT_LOCATOR, LOCATOR_TYPE) = (
    uuid.UUID(g).bytes_le for g in (
        "2DC27766-F623-4200-9D64-115E9BFD4A08",
        "8B7CA206-4790-4B9A-B8FE-575F050F886E",
        "CAA16737-FA36-4D43-B3B6-33F0AA44E76B",
        "2FA54224-CD1B-4876-B211-5DBED83BF4B8",
        "BECA12AB-B2E6-4523-93EF-C309E000C746",
        "8141BF1D-A96F-4709-BA47-F233A8FAAB5F",
        "CDA348C7-445D-4471-9CC9-E9885251C556",
        "A8D35F2D-B30B-454D-ABF7-D3D84834AB0C",
        "B04AEFB7-D19E-4A81-B789-25B8E9445913"))


def _crc_byte(c):
    for _ in range(8):
        c = c >> 1 ^ (0x82F63B78 if c & 1 else 0)
    return c


_CRC = [_crc_byte(i) for i in range(256)]


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC[(c ^ b) & 0xFF] ^ c >> 8
    return c ^ 0xFFFFFFFF


def _up(n, a):
    return -(-n // a) * a


def _nonzero(b):
    return b.count(0) != len(b)


def _guid(rng):
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _header(seq, fwg, dwg, log_guid, log_len, log_off):
    h = bytearray(4096)
    struct.pack_into("<4sIQ16s16s16sHHIQ", h, 0, b"head", 0, seq, fwg, dwg,
                     log_guid, 0, 1, log_len, log_off)
    struct.pack_into("<I", h, 4, crc32c(h))
    return h


def _entry(seq, tail, log_guid, descs, file_size):
    """A log entry from (file_offset, 4 KiB page) data descriptors and
    (file_offset, length) zero descriptors."""
    hlen = _up(64 + 32 * len(descs), 4096)
    e = bytearray(hlen + 4096 * sum(type(x) is not int for _, x in descs))
    struct.pack_into("<4sIIIQII16sQQ", e, 0, b"loge", 0, len(e), tail, seq,
                     len(descs), 0, log_guid, file_size, file_size)
    pos = hlen
    for i, (off, x) in enumerate(descs):
        if type(x) is int:
            struct.pack_into("<4sIQQQ", e, 64 + 32 * i, b"zero", 0, x, off,
                             seq)
            continue
        # The page's last 4 and first 8 bytes live in the descriptor.
        struct.pack_into("<4s4s8sQQ", e, 64 + 32 * i, b"desc", x[4092:],
                         x[:8], off, seq)
        struct.pack_into("<4sI", e, pos, b"data", seq >> 32)
        e[pos + 8:pos + 4092] = x[8:4092]
        struct.pack_into("<I", e, pos + 4092, seq & 0xFFFFFFFF)
        pos += 4096
    struct.pack_into("<I", e, 4, crc32c(e))
    return e


class Vhdx:
    """A guest disk model and the VHDX layout it is saved with."""

    def __init__(self, virtual_size=None, block_size=32 * MiB,
                 logical_sector=512, physical_sector=4096, fixed=False,
                 parent=None, seed=None):
        vs = parent.virtual_size if virtual_size is None else virtual_size
        assert {logical_sector, physical_sector} <= {512, 4096}
        assert vs > 0 and vs % logical_sector == 0 and not (fixed and parent)
        assert block_size in [MiB << i for i in range(9)]
        self.virtual_size, self.block_size = vs, block_size
        self.logical_sector, self.physical_sector = (logical_sector,
                                                     physical_sector)
        self.fixed, self.parent, self.path = fixed, parent, None
        self.rng = random.Random(seed)
        self.file_write_guid, self.data_write_guid, self.page83 = (
            _guid(self.rng) for _ in range(3))
        self.chunk_ratio = cr = (1 << 23) * logical_sector // block_size
        self.blocks = n = -(-vs // block_size)
        self.spb = block_size // logical_sector
        self.bat_entries = -(-n // cr) * (cr + 1) if parent else \
            n + (n - 1) // cr
        # Per block: state (when not the default), contents held in the
        # file, one byte per sector of a PARTIALLY_PRESENT block, junk at
        # the offset of a non-present one; order: file allocation order.
        self.state, self.data, self.bits, self.stale = {}, {}, {}, {}
        self.order = []

    def _st(self, b):
        return self.state.get(b, FULLY_PRESENT if self.fixed else NOT_PRESENT)

    def write(self, offset, data, full=False):
        """Guest write.  In a differencing image a block written only in
        part is PARTIALLY_PRESENT with bits for the sectors touched, unless
        full (the rest of the block then reads zero)."""
        assert 0 <= offset <= self.virtual_size - len(data)
        bs, ls, pos = self.block_size, self.logical_sector, 0
        while pos < len(data):
            b, off = divmod(offset + pos, bs)
            n = min(bs - off, len(data) - pos)
            st, whole = self._st(b), full or n == bs
            if st not in (FULLY_PRESENT, PARTIALLY_PRESENT) or \
                    b not in self.data:
                # What a ZERO block leaves unwritten must still read zero.
                self.set_state(b, PARTIALLY_PRESENT if self.parent and
                               st != ZERO and not whole else FULLY_PRESENT)
            elif st == PARTIALLY_PRESENT and whole:
                self.set_state(b, FULLY_PRESENT)
            self.data[b][off:off + n] = data[pos:pos + n]
            if b in self.bits:
                s0, s1 = off // ls, -(-(off + n) // ls)
                self.bits[b][s0:s1] = b"\1" * (s1 - s0)
            pos += n

    def zero_block(self, b):
        self.set_state(b, ZERO)

    def set_state(self, b, state, stale=None):
        """Force block b's BAT state.  UNDEFINED, ZERO and UNMAPPED entries
        may name a file offset holding `stale` bytes no reader may return;
        PARTIALLY_PRESENT keeps the bits set so far (none: all parent)."""
        assert 0 <= b < self.blocks and state in (0, 1, 2, 3, 6, 7)
        assert state != PARTIALLY_PRESENT or self.parent
        assert stale is None or state in (UNDEFINED, ZERO, UNMAPPED)
        self.state[b] = state
        self.stale.pop(b, None)
        if state == PARTIALLY_PRESENT:
            self.bits.setdefault(b, bytearray(self.spb))
        else:
            self.bits.pop(b, None)
        if state in (FULLY_PRESENT, PARTIALLY_PRESENT):
            self.data.setdefault(b, bytearray(self.block_size))
        else:
            self.data.pop(b, None)
            if stale is not None:
                self.stale[b] = bytes(stale)
        if (b in self.data or b in self.stale) and b not in self.order:
            self.order.append(b)

    def expected(self, parent_bytes=None, offset=0, length=None):
        """Guest bytes [offset, offset + length), by default all of them.
        The parent's come from parent_bytes (its whole disk) or its model."""
        vs, bs, ls = self.virtual_size, self.block_size, self.logical_sector
        end = vs if length is None else offset + length
        out = bytearray(end - offset)
        if parent_bytes is not None:
            got = parent_bytes[offset:end]
            out[:len(got)] = got
        elif self.parent and offset < self.parent.virtual_size:
            n = min(end, self.parent.virtual_size) - offset
            out[:n] = self.parent.expected(None, offset, n)
        for b in range(offset // bs, -(-end // bs)):
            st, lo = self._st(b), b * bs
            a, z = max(lo, offset), min(lo + bs, end)
            # Undefined and unmapped blocks may read as anything but the
            # parent's data: zeros, as qemu and Hyper-V read them.
            if st in (ZERO, UNDEFINED, UNMAPPED) or \
                    st == FULLY_PRESENT and b not in self.data:
                out[a - offset:z - offset] = bytes(z - a)
            elif st == FULLY_PRESENT:
                out[a - offset:z - offset] = self.data[b][a - lo:z - lo]
            elif st == PARTIALLY_PRESENT:
                bits, s = self.bits[b], 0
                while (s := bits.find(1, s)) >= 0:
                    e = bits.find(0, s)
                    e = len(bits) if e < 0 else e
                    x, y = max(lo + s * ls, a), min(lo + e * ls, z)
                    if x < y:
                        out[x - offset:y - offset] = \
                            self.data[b][x - lo:y - lo]
                    s = e
        return bytes(out)

    def _layout(self, log_len):
        L = types.SimpleNamespace(log=MiB, log_len=log_len, blocks={},
                                  bitmaps={}, meta=MiB + log_len)
        L.bat, L.bat_len = L.meta + MiB, _up(self.bat_entries * 8, MiB)
        pos = L.bat + L.bat_len
        for b in range(self.blocks) if self.fixed else self.order:
            if self.fixed or b in self.data or b in self.stale:
                L.blocks[b], pos = pos, pos + self.block_size
        for c in sorted({b // self.chunk_ratio for b in self.bits}):
            L.bitmaps[c], pos = pos, pos + MiB
        L.size = pos
        return L

    def _bat(self, L):
        bat, cr = bytearray(L.bat_len), self.chunk_ratio
        for b in range(self.blocks):
            st = self._st(b)
            off = L.blocks.get(b, 0) if st != NOT_PRESENT else 0
            struct.pack_into("<Q", bat, 8 * (b + b // cr), off | st)
        for c, off in L.bitmaps.items():
            struct.pack_into("<Q", bat, 8 * (c * (cr + 1) + cr),
                             off | SB_PRESENT)
        return bat

    def _bitmap(self, c):
        m, cr, per = bytearray(MiB), self.chunk_ratio, self.spb // 8
        for b in range(c * cr, c * cr + cr):
            f = self.bits.get(b, b"\1" * self.spb
                              if self._st(b) == FULLY_PRESENT else None)
            if f:
                m[b % cr * per:(b % cr + 1) * per] = bytes(
                    sum(f[i + k] << k for k in range(8))
                    for i in range(0, self.spb, 8))
        return m

    def _metadata(self, vsize, locator):
        flags = (1 if self.fixed else 0) | (2 if self.parent else 0)
        items = [(FILE_PARAMS, struct.pack("<II", self.block_size, flags), 4),
                 (DISK_SIZE, struct.pack("<Q", vsize), 6),
                 (PAGE83, self.page83.bytes_le, 6),
                 (LOGICAL_SECTOR, struct.pack("<I", self.logical_sector), 6),
                 (PHYSICAL_SECTOR, struct.pack("<I", self.physical_sector),
                  6)] + ([(PARENT_LOCATOR, locator, 4)] if locator else [])
        m = bytearray(MiB)
        struct.pack_into("<8sHH", m, 0, b"metadata", 0, len(items))
        pos = 64 * KiB
        for i, (guid, data, fl) in enumerate(items):
            struct.pack_into("<16sIII", m, 32 + 32 * i, guid, pos, len(data),
                             fl)
            m[pos:pos + len(data)] = data
            pos += _up(len(data), 8)
        return m

    def save(self, path, relative_path=None, absolute_win32_path=None,
             parent_linkage=None, log=False, stale_log=False,
             stale_meta=False, current=1, many=0):
        """Write the image; returns its layout.  Locator paths default from
        the parent's saved name, "" drops a key.  log: True for a dirty log
        whose active sequence starts past offset 0, "wrap" for one that
        wraps with an entry straddling the log's end.  stale_log adds an
        older valid sequence that must lose; stale_meta leaves a halved
        disk size on disk for the log to fix.  current: the header copy
        (0 or 1) with the higher sequence number.  many: a last log entry
        of that many descriptors that change nothing in the end: zero
        descriptors over zeros, overlapping, and over data pages that a
        later descriptor of the entry writes back."""
        loc = None
        if self.parent:
            name = os.path.basename(self.parent.path or "parent.vhdx")
            kv = [("parent_linkage", parent_linkage or
                   "{%s}" % self.parent.data_write_guid),
                  ("relative_path", ".\\" + name if relative_path is None
                   else relative_path),
                  ("absolute_win32_path", "C:\\VMs\\" + name
                   if absolute_win32_path is None else absolute_win32_path)]
            kv = [(k.encode("utf-16-le"), v.encode("utf-16-le"))
                  for k, v in kv if v]
            loc, strs = LOCATOR_TYPE + struct.pack("<HH", 0, len(kv)), b""
            for k, v in kv:
                o = 20 + 12 * len(kv) + len(strs)
                loc += struct.pack("<IIHH", o, o + len(k), len(k), len(v))
                strs += k + v
            loc += strs
        L = self._layout(_up((self.bat_entries // 512 + 40) * 4096 +
                             many * 32 + (many // 64 + 1) * 4096, MiB)
                         if log else MiB)
        parts = {L.meta: self._metadata(self.virtual_size, loc),
                 L.bat: self._bat(L)}
        for b, off in L.blocks.items():
            if b in self.data or b in self.stale:
                parts[off] = self.data.get(b) or self.stale[b]
        for c, off in L.bitmaps.items():
            parts[off] = self._bitmap(c)
        log_guid = bytes(16)
        if log:
            log_guid, ls = _guid(self.rng).bytes_le, self.logical_sector
            old = stale_meta and self._metadata(
                max(self.virtual_size // 2 // ls, 1) * ls, loc)
            self._dirty(L, parts, log, log_guid, stale_log, old, many)
        rt = bytearray(64 * KiB)
        struct.pack_into("<4sIII16sQII16sQII", rt, 0, b"regi", 0, 2, 0,
                         BAT_REGION, L.bat, L.bat_len, 1,
                         META_REGION, L.meta, MiB, 1)
        struct.pack_into("<I", rt, 4, crc32c(rt))
        fwg = self.file_write_guid.bytes_le
        # The losing header is older and clean: only the winner's log GUID
        # makes the image dirty.
        for i in (0, 1):
            parts[(i + 1) * 64 * KiB] = _header(
                10 + (i == current), fwg if i == current else fwg[::-1],
                self.data_write_guid.bytes_le,
                log_guid if i == current else bytes(16), L.log_len, L.log)
        parts.update({0: b"vhdxfile" + "vhdxgen".encode("utf-16-le"),
                      192 * KiB: rt, 256 * KiB: rt})
        with open(path, "wb") as f:
            f.truncate(L.size)
            for off, data in parts.items():
                # Skip zero runs so unwritten space stays a hole.
                for i in range(0, len(data), 64 * KiB):
                    if _nonzero(data[i:i + 64 * KiB]):
                        f.seek(off + i)
                        f.write(data[i:i + 64 * KiB])
        self.path = path
        return L

    def _many(self, L, n):
        """n descriptors whose net effect is nothing (see save())."""
        descs, b = [], next((b for b in L.blocks if b in self.data), None)
        # The metadata region's last half holds zeros.
        zeros = L.meta + MiB // 2
        for i in range(n):
            if b is not None and i % 64 == 63 and len(descs) + 1 < n:
                # A data page zeroed, then written back.
                k = (i // 64 * 4096) % self.block_size
                page = bytes(self.data[b][k:k + 4096])
                page += bytes(4096 - len(page))
                descs += [(L.blocks[b] + k, 4096), (L.blocks[b] + k, page)]
            elif len(descs) < n:
                descs.append((zeros + (i * 7) % 125 * 4096, 4096 * (1 + i % 3)))
        return descs[:n]

    def _dirty(self, L, parts, mode, guid, stale_log, old_meta, many=0):
        """Leave older state on disk; the final BAT, a payload page and
        maybe a metadata page go into a three-entry log sequence."""
        bat, pages = parts[L.bat], range(L.bat, L.bat + _up(
            self.bat_entries * 8, 4096), 4096)
        full = [p for p in pages if _nonzero(bat[p - L.bat:p - L.bat + 4096])]
        old = parts[L.bat] = bytearray(L.bat_len)
        # Junk entries map guest blocks onto the metadata region.
        junk, zero, stale = struct.pack("<Q", L.meta | 6) * 512, None, None
        hole = next((p for p in pages if p not in full), None)
        if hole is not None:
            n = 1
            while n < 4 and hole + 4096 * n in pages and \
                    hole + 4096 * n not in full:
                n += 1
            old[hole - L.bat:hole - L.bat + 4096 * n] = junk * n
            zero = (hole, 4096 * n)
        # e1 holds a version of a BAT page that e3 supersedes.
        e1 = [(full[0], junk)] if full else []
        e3 = [(p, bat[p - L.bat:p - L.bat + 4096]) for p in full[:1]]
        e2 = [(p, bat[p - L.bat:p - L.bat + 4096]) for p in full[1:]]
        b = next((b for b in L.blocks if b in self.data), None)
        if b is not None:
            # The block's first page is right only in the log; a zero page
            # gets junk on disk for the zero descriptor to clear.
            off = L.blocks[b]
            new = parts[off] = bytearray(parts[off])
            e2.append((off, bytes(new[:4096])))
            new[:4096] = bytes(x ^ 0xA5 for x in new[:4096])
            for p in range(4096, min(self.block_size, self.virtual_size -
                                     b * self.block_size), 4096):
                if zero is None and not _nonzero(new[p:p + 4096]):
                    new[p:p + 4096], zero = b"\xa5" * 4096, (off + p, 4096)
                elif stale is None:
                    stale = (off + p, b"\x5a" * 4096)
                if zero and stale:
                    break
        if old_meta:
            e2.append((L.meta + 64 * KiB, parts[L.meta][64 * KiB:68 * KiB]))
            parts[L.meta] = old_meta
        e1.insert(0, zero or (L.meta + MiB - 4096, 4096))
        seqs = [(LOG_SEQ, [e1, e2, e3] + ([self._many(L, many)]
                                          if many else []))]
        if stale_log:
            seqs.append((LOG_SEQ - 0x20, [e1[1:2], [stale] if stale else []]))
        n, log = L.log_len // 4096, bytearray(L.log_len)
        size = [[len(_entry(0, 0, guid, d, 0)) // 4096 for d in es]
                for _, es in seqs]
        assert sum(map(sum, size)) + 8 < n, "log too small"
        if mode == "wrap":
            start = n - size[0][0] - 1
            starts = [start, (start + sum(size[0])) % n + 2]
        else:
            # The older sequence first, so the active one has a non-zero
            # tail.
            starts = [3 + (sum(size[1]) + 1 if stale_log else 0), 1]
        for (seq, es), pos in zip(seqs, starts):
            tail = pos * 4096
            for i, descs in enumerate(es):
                e = _entry(seq + i, tail, guid, descs, L.size)
                for k in range(0, len(e), 4096):
                    log[pos % n * 4096:pos % n * 4096 + 4096] = e[k:k + 4096]
                    pos += 1
        parts[L.log] = log


# Self-test: python3 tests/lib/vhdxgen.py SCRATCH_DIR

def _run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def _qemu(path, v, repair=False, parent_bytes=None):
    """Compare qemu's reading of path (of a repaired copy) with v."""
    if repair:
        _run("cp", "--sparse=always", path, path + ".fix")
        path += ".fix"
        r = _run("qemu-img", "check", "-r", "all", "-f", "vhdx", path)
        if r.returncode:
            return "check exit %d: %s" % (r.returncode, r.stdout.strip(
                ).splitlines()[-1])
    raw = path + ".raw"
    r = _run("qemu-img", "convert", "-f", "vhdx", "-O", "raw", path, raw)
    if r.returncode:
        return r.stderr.strip().splitlines()[-1]
    if os.path.getsize(raw) != v.virtual_size:
        return "size %d" % os.path.getsize(raw)
    with open(raw, "rb") as f:
        for off in range(0, v.virtual_size, 64 * MiB):
            n = min(64 * MiB, v.virtual_size - off)
            exp = v.expected(parent_bytes, off, n)
            try:
                hole = os.lseek(f.fileno(), off, os.SEEK_DATA) >= off + n
            except OSError:
                hole = True
            # Reading gigabytes of holes is slow; a hole must read zero.
            if _nonzero(exp) if hole else os.pread(f.fileno(), n, off) != exp:
                return "content differs in [%#x, %#x)" % (off, off + n)
    os.unlink(raw)
    return True


def _items(path):
    """{item guid: (file offset, bytes)}, BAT and metadata offsets."""
    with open(path, "rb") as f:
        rt = os.pread(f.fileno(), 80, 192 * KiB)
        reg = {rt[16 + 32 * i:32 + 32 * i]: struct.unpack_from(
            "<Q", rt, 32 + 32 * i)[0] for i in range(2)}
        m = os.pread(f.fileno(), MiB, reg[META_REGION])
    items = {}
    for i in range(struct.unpack_from("<H", m, 10)[0]):
        guid, off, n = struct.unpack_from("<16sII", m, 32 + 32 * i)
        items[guid] = (reg[META_REGION] + off, m[off:off + n])
    return items, reg[BAT_REGION], reg[META_REGION]


def _patch(path, out, *edits):
    """A copy of path with (offset, bytes) edits."""
    _run("cp", "--sparse=always", path, out)
    with open(out, "r+b") as f:
        for off, data in edits:
            os.pwrite(f.fileno(), data, off)
    return out


def _replay(path, apply=True):
    """Replay the log as MS-VHDX says: the newest valid entry is the head,
    its tail names the first entry to apply.  Without apply only mark the
    log empty, exposing the stale state.  Returns entries applied."""
    with open(path, "r+b") as f:
        fd = f.fileno()
        hs = [bytearray(os.pread(fd, 4096, o)) for o in (64 * KiB, 128 * KiB)]
        h = max(hs, key=lambda h: struct.unpack_from("<Q", h, 8))
        log_len, log_off = struct.unpack_from("<IQ", h, 68)
        log, n, ents = os.pread(fd, log_len, log_off), log_len // 4096, {}
        for i in range(n):
            length, tail, seq, cnt = struct.unpack_from("<IIQI", log,
                                                        i * 4096 + 8)
            if log[i * 4096:i * 4096 + 4] != b"loge" or not length or \
                    length % 4096 or length > log_len or \
                    log[i * 4096 + 32:i * 4096 + 48] != h[48:64]:
                continue
            e = bytearray(b"".join(log[(i + k) % n * 4096:][:4096]
                                   for k in range(length // 4096)))
            crc, e[4:8] = e[4:8], bytes(4)
            if struct.unpack("<I", crc)[0] == crc32c(e):
                ents[i] = (seq, tail // 4096, length // 4096, cnt, e)
        head = max(ents.values(), key=lambda e: e[0])
        i, chain = head[1], []
        while not chain or chain[-1] is not head:
            assert not chain or ents[i][0] == chain[-1][0] + 1
            chain.append(ents[i])
            i = (i + ents[i][2]) % n
        for seq, _, _, cnt, e in chain if apply else []:
            pos = _up(64 + 32 * cnt, 4096)
            for k in range(cnt):
                sig, trail, lead, off, dseq = struct.unpack_from(
                    "<4s4s8sQQ", e, 64 + 32 * k)
                d = e[pos:pos + 4096]
                assert dseq == seq
                if sig == b"zero":
                    os.pwrite(fd, bytes(struct.unpack("<Q", lead)[0]), off)
                    continue
                assert struct.unpack_from("<4sI", d) == (b"data", seq >> 32)
                assert struct.unpack_from("<I", d, 4092)[0] == seq & 0xFFFFFFFF
                os.pwrite(fd, lead + d[8:4092] + trail, off)
                pos += 4096
        h[48:64], h[4:8] = bytes(16), bytes(4)
        struct.pack_into("<I", h, 4, crc32c(h))
        os.pwrite(fd, h, 64 * KiB if hs[0] is h else 128 * KiB)
    return len(chain)


def _check_diff(path, v):
    """Read a differencing file's metadata, BAT, blocks and sector bitmaps
    back and compare them with the model."""
    items, bat_off, _ = _items(path)
    assert struct.unpack("<II", items[FILE_PARAMS][1]) == (v.block_size, 2)
    loc, keys = items[PARENT_LOCATOR][1], {}
    assert loc[:16] == LOCATOR_TYPE
    for i in range(struct.unpack_from("<H", loc, 18)[0]):
        ko, vo, kl, vl = struct.unpack_from("<IIHH", loc, 20 + 12 * i)
        keys[loc[ko:ko + kl].decode("utf-16-le")] = \
            loc[vo:vo + vl].decode("utf-16-le")
    assert keys["parent_linkage"] == "{%s}" % v.parent.data_write_guid
    cr, fd = v.chunk_ratio, os.open(path, os.O_RDONLY)
    bat = struct.unpack("<%dQ" % v.bat_entries,
                        os.pread(fd, 8 * v.bat_entries, bat_off))
    for b in range(v.blocks):
        e = bat[b + b // cr]
        assert e & 7 == v._st(b), (b, e)
        if e & 7 in (FULLY_PRESENT, PARTIALLY_PRESENT):
            assert os.pread(fd, v.block_size, e >> 20 << 20) == v.data[b]
        if e & 7 == PARTIALLY_PRESENT:
            sb = bat[b // cr * (cr + 1) + cr]
            m = int.from_bytes(os.pread(fd, v.spb // 8, (sb >> 20 << 20) +
                                        b % cr * v.spb // 8), "little")
            assert sb & 7 == SB_PRESENT and all(
                m >> s & 1 == v.bits[b][s] for s in range(v.spb))
    os.close(fd)
    return True


def _selftest(d):
    rnd, fails = random.Random(7), []
    os.makedirs(d, exist_ok=True)

    def report(name, res, must=True):
        # must=False: qemu's behaviour, shown but not a failure.
        print("%-36s %s%s" % (name, "" if must else "(info) ",
                              "ok" if res is True else res))
        if must and res is not True:
            fails.append(name)

    def fill(v, *spots):
        for off, n in spots:
            v.write(off, rnd.randbytes(n))
        return v

    assert crc32c(b"123456789") == 0xE3069283
    a = fill(Vhdx(13 * MiB + 1536, MiB, seed=1), (1000, 5000),
             (2 * MiB - 100, MiB + 300), (7 * MiB, 4096),
             (12 * MiB + 512, MiB + 1024))
    a.zero_block(3)
    for blk, st in (5, UNMAPPED), (6, UNDEFINED), (8, ZERO):
        a.set_state(blk, st, rnd.randbytes(MiB))
    a.set_state(9, UNDEFINED)
    b = fill(Vhdx(100 * MiB + 5 * 4096, 32 * MiB, 4096, seed=2),
             (4096 * 3, 70000), (33 * MiB, 3 * MiB), (96 * MiB, 4 * MiB))
    b.zero_block(1)
    c = fill(Vhdx(70 * MiB + 512, physical_sector=512, fixed=True, seed=3),
             (0, 4096), (40 * MiB + 7, 20000), (70 * MiB, 512))
    c.zero_block(1)
    e = fill(Vhdx(5 * MiB + 3 * 4096, MiB, 4096, fixed=True, seed=4),
             (4096, MiB), (5 * MiB, 3 * 4096))
    # 1 MiB blocks of 512-byte sectors: a sector bitmap entry follows
    # block 4095 in the BAT, which spans nine pages.
    big = fill(Vhdx(4096 * MiB + 3 * MiB + 512, MiB, seed=5), (0, 8192),
               (4095 * MiB + 5, 4096), (4096 * MiB, MiB), (4099 * MiB, 512))
    for name, v, kw in (
            ("dyn-512-1M", a, {}), ("dyn-4k-32M", b, {}),
            ("fixed-512-32M", c, {"current": 0}), ("fixed-4k-1M", e, {}),
            ("dyn-512-1M-4G", big, {"current": 0}),
            ("dirty", a, {"log": True, "stale_log": True,
                          "stale_meta": True}),
            ("dirty-4G", big, {"log": True, "stale_log": True}),
            ("dirty-fixed", c, {"log": True, "stale_meta": True}),
            ("dirty-4k", b, {"log": True, "stale_log": True}),
            ("dirty-wrap", a, {"log": "wrap", "stale_log": True}),
            ("dirty-wrap-4G", big, {"log": "wrap", "stale_meta": True})):
        p = os.path.join(d, name + ".vhdx")
        v.save(p, **kw)
        if v.logical_sector == 4096:
            # qemu refuses 4096-byte sectors; below one chunk the layout is
            # the same with 512, so only that item changes for qemu.
            report(name + " qemu, 4096 sectors", _qemu(p, v), False)
            p = _patch(p, p + ".512", (_items(p)[0][LOGICAL_SECTOR][0],
                                       struct.pack("<I", 512)))
        if not kw.get("log"):
            report(name, _qemu(p, v))
            continue
        r = _run("qemu-img", "info", "-f", "vhdx", p)
        report(name + " read-only open refused", "replay" in r.stderr)
        report(name + " qemu check -r all", _qemu(p, v, True),
               kw["log"] is True)
        for apply in (False, True):
            _run("cp", "--sparse=always", p, p + ".rep")
            n, res = _replay(p + ".rep", apply), _qemu(p + ".rep", v)
            report(name + " replay %d entries" % n if apply else
                   name + " stale unless replayed",
                   res if apply else res is not True or "reads as expected")
    # qemu reads no differencing image: compare the file with the model,
    # and let qemu read a child without its has_parent flag and locator.
    par = fill(Vhdx(9 * MiB + 1024, MiB, seed=6), (0, 9 * MiB + 1024))
    par.save(os.path.join(d, "parent.vhdx"))
    kid = fill(Vhdx(parent=par, block_size=MiB, seed=8), (512, 1024),
               (MiB + 4096, 3 * MiB), (6 * MiB, 100))
    kid.write(8 * MiB + 512, rnd.randbytes(512), full=True)
    kid.zero_block(5)
    pb, exp = par.expected(), kid.expected()
    assert exp[:512] == pb[:512] and exp[512:1536] != pb[512:1536]
    assert not _nonzero(exp[5 * MiB:6 * MiB] + exp[8 * MiB:8 * MiB + 512])
    assert exp[7 * MiB:8 * MiB] == pb[7 * MiB:8 * MiB]
    full = fill(Vhdx(parent=par, block_size=MiB, seed=9), (2 * MiB, MiB))
    full.write(4 * MiB + 7, b"x", full=True)
    full.zero_block(0)
    gk = fill(Vhdx(parent=kid, block_size=2 * MiB, seed=10), (MiB - 512, 1024))
    assert gk.expected()[MiB + 512:] == exp[MiB + 512:]
    for name, v, kw in (("diff", kid, {}), ("diff-full", full, {}),
                        ("diff-dirty", kid, {"log": True, "stale_log": True}),
                        ("diff-grandchild", gk, {})):
        p = os.path.join(d, name + ".vhdx")
        v.save(p, **kw)
        if kw:
            _replay(p)
        report(name + " file matches model", _check_diff(p, v))
        r = _run("qemu-img", "info", "-f", "vhdx", p)
        report(name + " qemu-img info", r.stderr.strip().split(": ")[-1],
               False)
        items, _, meta = _items(p)
        q = _patch(p, p + ".nop", (items[FILE_PARAMS][0] + 4, bytes(4)),
                   (meta + 10, struct.pack("<H", len(items) - 1)))
        report(name + " read alone by qemu", _qemu(q, v, False, bytes(
            v.virtual_size)), v is full)
    print("FAILED: " + ", ".join(fails) if fails else "all ok")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(_selftest(sys.argv[1] if len(sys.argv) > 1 else
                       "/tmp/vhdxgen-scratch"))
