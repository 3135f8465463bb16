"""Reading back a QR code PNG drawn by the mini-program code simulator: the PNG's pixels, module
by module, compared with the standard QR symbol of a text (segno's, which encodes by ISO/IEC
18004). Equal means a phone's camera reads that text from the image."""
from __future__ import annotations

import struct
import zlib

BORDER = 4


def png_pixels(data: bytes) -> list[list[bool]]:
    """Dark (True) or light per pixel of a greyscale or palette PNG (bit depth 1, 2, 4 or 8)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, palette = 8, b"", None
    width = height = depth = colour = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"PLTE":
            palette = [chunk[i:i + 3] for i in range(0, len(chunk), 3)]
        elif kind == b"IDAT":
            idat += chunk
    if colour not in (0, 3):
        raise ValueError(f"colour type {colour} is not drawn by the simulator")
    raw = zlib.decompress(idat)
    stride = (width * depth + 7) // 8
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, corner = previous[i], (previous[i - 1] if i else 0)
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(line)
        previous = line
    top = (1 << depth) - 1
    pixels = []
    for line in rows:
        values = [(line[(x * depth) // 8] >> (8 - depth - (x * depth) % 8)) & top for x in range(width)]
        if palette is not None:
            pixels.append([sum(palette[v]) < 384 for v in values])
        else:
            pixels.append([v < (top + 1) // 2 for v in values])
    return pixels


def qr_holds(png: bytes, text: str) -> bool:
    """Whether the PNG is the QR code of ``text`` (quiet zone of 4 modules, whole pixels each)."""
    import segno

    matrix = [[bool(v) for v in row] for row in segno.make_qr(text, error="m").matrix]
    pixels = png_pixels(png)
    size = len(matrix) + 2 * BORDER
    if len(pixels) % size or len(pixels[0]) != len(pixels):
        return False
    scale = len(pixels) // size
    drawn = [[pixels[(BORDER + r) * scale + scale // 2][(BORDER + c) * scale + scale // 2] for c in range(len(matrix))]
             for r in range(len(matrix))]
    return drawn == matrix
