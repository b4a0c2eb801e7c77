"""Media store, upload limits, multipart parsing and generated sample files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import threading
import zlib
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

from .errors import GraphError

KB = 1024
MB = 1024 * 1024

# mime base type -> (family, size limit in bytes), Meta's supported media types:
# https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
MIME_TYPES: dict[str, tuple[str, int]] = {
    "audio/aac": ("audio", 16 * MB),
    "audio/amr": ("audio", 16 * MB),
    "audio/mpeg": ("audio", 16 * MB),
    "audio/mp4": ("audio", 16 * MB),
    "audio/ogg": ("audio", 16 * MB),
    "text/plain": ("document", 100 * MB),
    "application/pdf": ("document", 100 * MB),
    "application/msword": ("document", 100 * MB),
    "application/vnd.ms-excel": ("document", 100 * MB),
    "application/vnd.ms-powerpoint": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", 100 * MB),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation":
        ("document", 100 * MB),
    "image/jpeg": ("image", 5 * MB),
    "image/png": ("image", 5 * MB),
    "image/webp": ("sticker", 500 * KB),
    "video/mp4": ("video", 16 * MB),
    "video/3gpp": ("video", 16 * MB),
}


def base_mime(mime: str) -> str:
    return (mime or "").split(";", 1)[0].strip().lower()


def mime_family(mime: str) -> str | None:
    entry = MIME_TYPES.get(base_mime(mime))
    return entry[0] if entry else None


def check_upload(mime: str, size: int) -> None:
    entry = MIME_TYPES.get(base_mime(mime))
    if entry is None:
        raise GraphError(131053, f"Param file must be a file with one of the following types: "
                                 f"{', '.join(sorted(MIME_TYPES))}. Received file of type "
                                 f"'{mime}'.")
    family, limit = entry
    if size <= 0:
        raise GraphError(131053, "Uploaded file is empty.")
    if size > limit:
        raise GraphError(131053, f"File size {size} bytes exceeds the {family} limit of "
                                 f"{limit} bytes.")


@dataclass
class Media:
    id: str
    owner: str  # phone_number_id
    mime_type: str
    data: bytes
    filename: str | None = None
    created: float = 0.0

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


class MediaStore:
    def __init__(self, signing_key: bytes):
        self._lock = threading.Lock()
        self._items: dict[str, Media] = {}
        self._key = signing_key

    def add(self, media: Media) -> Media:
        with self._lock:
            self._items[media.id] = media
        return media

    def get(self, media_id: str) -> Media | None:
        with self._lock:
            return self._items.get(media_id)

    def delete(self, media_id: str) -> bool:
        with self._lock:
            return self._items.pop(media_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def sign(self, media_id: str, expires: int) -> str:
        msg = f"{media_id}:{expires}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def check_signature(self, media_id: str, expires: int, sig: str) -> bool:
        return hmac.compare_digest(self.sign(media_id, expires), sig or "")


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes, str | None, str]]:
    """Parse multipart/form-data → {field: (bytes, filename, content_type)}."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise GraphError(131009, "The request must be multipart/form-data.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = BytesParser(policy=HTTP).parsebytes(head + body)
    if not msg.is_multipart():
        raise GraphError(131009, "Could not parse the multipart body.")
    fields: dict[str, tuple[bytes, str | None, str]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True) or b""
        fields[name] = (data, part.get_filename(), part.get_content_type())
    return fields


# ---------------------------------------------------------------- sample files

def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\x25\xd3\x66")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


JPEG_1X1 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJ"
    "DRENDg8QEBEQCgwSExIQEw8QEBD/yQALCAABAAEBAREA/8wABgAQEAX/2gAIAQEAAD8A0s8g/9k="
)
WEBP_1X1 = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, seq: int, flags: int, granule: int = 0) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = struct.pack("<4sBBqIII", b"OggS", 0, flags, granule, 0x53494D55, seq, 0)
    page = header + bytes([len(segments)]) + bytes(segments) + packet
    crc = _ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def _ogg_opus() -> bytes:
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 3) + b"sim" + struct.pack("<I", 0)
    return _ogg_page(head, 0, 0x02) + _ogg_page(tags, 1, 0x04)


def _pdf(text: str) -> bytes:
    stream = f"BT /F1 18 Tf 40 100 Td ({text}) Tj ET".encode("latin-1", "replace")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def _mp4() -> bytes:
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", b"mp42", 0) + b"mp42isom"
    mdat = struct.pack(">I4s", 16, b"mdat") + b"\x00" * 8
    return ftyp + mdat


def _mp3() -> bytes:
    id3 = b"ID3\x03\x00\x00\x00\x00\x00\x00"
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return id3 + frame * 3


def sample_file(kind: str, *, voice: bool = False, text: str = "Simulated document",
                mime: str | None = None) -> tuple[bytes, str]:
    """Small but structurally valid file for an inbound message type → (bytes, mime)."""
    if kind == "image":
        if mime == "image/png":
            return _png_1x1(), "image/png"
        return JPEG_1X1, "image/jpeg"
    if kind == "sticker":
        return WEBP_1X1, "image/webp"
    if kind == "audio":
        if voice or (mime or "").startswith("audio/ogg"):
            return _ogg_opus(), "audio/ogg; codecs=opus"
        return _mp3(), "audio/mpeg"
    if kind == "video":
        return _mp4(), "video/mp4"
    if mime == "text/plain":
        return text.encode("utf-8"), "text/plain"
    return _pdf(text), "application/pdf"
