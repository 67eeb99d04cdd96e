"""Makeover uploads, checked and cleaned before anything is saved.

Photos: only real images (Pillow `verify()`, then a fresh open to decode them), at most
MAKEOVER_MAX_UPLOAD_BYTES and MAKEOVER_MAX_PIXELS (read from the header, before any
pixel is decoded: a decompression bomb is refused with a sentence, never a 500). The
orientation the camera wrote in EXIF is applied, then the picture is re-encoded as a
JPEG built from its pixels alone: EXIF, GPS, XMP and every other tag are gone. A
thumbnail is made at the same time.

Videos: recognised by their first bytes (MP4, QuickTime, WebM), not by the name or the
Content-Type the phone sent, and at most MAKEOVER_MAX_VIDEO_BYTES. They are stored as
they came (no transcoding here), served only through the access-checked views.

Every refusal is an `ApplicationError` on the field at fault, with words for the stylist.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError

from clienteling.core.errors import ApplicationError

# The stored photo's longest side: sharp on a tablet, a few hundred kB.
PHOTO_MAX_EDGE = 2048
THUMBNAIL_BOX = (480, 480)
PHOTO_QUALITY = 85
THUMBNAIL_QUALITY = 80
# What phones and cameras send (many phones' multi-picture JPEGs open as JPEG, then MPO).
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP")

NOT_A_PHOTO = "This file is not a photo we can read. Choose a JPEG, PNG or WebP picture."
NOT_A_VIDEO = "This file is not a video we can play. Choose an MP4, MOV (QuickTime) or WebM video."

# ISO base media files (MP4 and QuickTime) name their "brand" after "ftyp"; HEIF photos
# and M4A audio use the same container, so only video brands are accepted.
MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso3",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4VP",
    b"dash",
    b"mmp4",
    b"MSNV",
    b"3gp4",
    b"3gp5",
    b"3gp6",
    b"3g2a",
}
QUICKTIME_BRANDS = {b"qt  "}
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
VIDEO_SUFFIXES = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm"}


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: JPEG bytes without metadata, its thumbnail, its size."""

    content: bytes
    thumbnail: bytes
    width: int
    height: int
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class CheckedVideo:
    content_type: str
    suffix: str


def _megabytes(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{max(1, round(size / 1024))} kB"


def _check_size(upload: UploadedFile, limit: int, field: str, what: str) -> None:
    if upload.size is None or upload.size <= 0:
        raise ApplicationError(f"This {what} is empty. Choose another file.", field=field)
    if upload.size > limit:
        raise ApplicationError(
            f"This {what} is {_megabytes(upload.size)}: the most we take is {_megabytes(limit)}.",
            field=field,
        )


def _too_many_pixels(limit: int, field: str) -> ApplicationError:
    return ApplicationError(
        f"This picture has too many pixels: at most {limit / 1_000_000:g} megapixels. "
        "Take it again or choose a smaller copy.",
        field=field,
    )


def photo_clean(upload: UploadedFile, *, field: str = "photo") -> CleanPhoto:
    """Check an uploaded photo and return it cleaned (see the module docstring)."""
    _check_size(upload, settings.MAKEOVER_MAX_UPLOAD_BYTES, field, "photo")
    max_pixels = settings.MAKEOVER_MAX_PIXELS
    try:
        # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that: both are bombs.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload, formats=PHOTO_FORMATS) as probe:
                probe.verify()  # structure and checksums, without decoding the pixels
            upload.seek(0)
            with Image.open(upload, formats=PHOTO_FORMATS) as image:
                width, height = image.size
                if width <= 0 or height <= 0:
                    raise ApplicationError(NOT_A_PHOTO, field=field)
                if width * height > max_pixels:
                    raise _too_many_pixels(max_pixels, field)
                # JPEGs decode at a reduced scale when that is all we keep: less memory.
                image.draft("RGB", (PHOTO_MAX_EDGE, PHOTO_MAX_EDGE))
                image.load()
                upright = ImageOps.exif_transpose(image)
                picture = _rgb(upright)
    except ApplicationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(max_pixels, field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ApplicationError(NOT_A_PHOTO, field=field) from error

    picture.thumbnail((PHOTO_MAX_EDGE, PHOTO_MAX_EDGE))
    # Rebuilt from the pixels alone: no EXIF, GPS, XMP, ICC or comment can survive.
    bare = Image.frombytes("RGB", picture.size, picture.tobytes())
    thumbnail = bare.copy()
    thumbnail.thumbnail(THUMBNAIL_BOX)
    return CleanPhoto(
        content=_jpeg(bare, PHOTO_QUALITY),
        thumbnail=_jpeg(thumbnail, THUMBNAIL_QUALITY),
        width=bare.width,
        height=bare.height,
    )


def _rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency (a PNG screenshot) lands on white, not black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def video_sniff(head: bytes) -> str | None:
    """The video type these first bytes show ("video/mp4", ...), or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in QUICKTIME_BRANDS:
            return "video/quicktime"
        if brand in MP4_BRANDS:
            return "video/mp4"
        return None
    if head.startswith(EBML_MAGIC) and b"webm" in head[:64]:
        return "video/webm"
    return None


def video_check(upload: UploadedFile, *, field: str = "video") -> CheckedVideo:
    """Check an uploaded video by its size and its first bytes (see the module docstring)."""
    _check_size(upload, settings.MAKEOVER_MAX_VIDEO_BYTES, field, "video")
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    content_type = video_sniff(head)
    if content_type is None:
        raise ApplicationError(NOT_A_VIDEO, field=field)
    return CheckedVideo(content_type=content_type, suffix=VIDEO_SUFFIXES[content_type])
