"""What makeover tests upload and who they upload it for: photos built with Pillow (with
EXIF orientation and GPS, like a phone's), video headers, and a makeover appointment."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

from tests import factories

PARIS = {"lat": (48.0, 51.0, 30.0), "lon": (2.0, 17.0, 40.0)}


def jpeg_bytes(
    size: tuple[int, int] = (60, 40), *, orientation: int | None = None, gps: bool = False
) -> bytes:
    """A JPEG whose left half is red and right half blue, with the tags a phone writes."""
    width, height = size
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        ifd[ExifTags.GPS.GPSLatitudeRef] = "N"
        ifd[ExifTags.GPS.GPSLatitude] = PARIS["lat"]
        ifd[ExifTags.GPS.GPSLongitudeRef] = "E"
        ifd[ExifTags.GPS.GPSLongitude] = PARIS["lon"]
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(data: bytes | None = None, name: str = "IMG_0001.JPG", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, jpeg_bytes() if data is None else data, content_type)


def mp4_bytes(brand: bytes = b"isom", size: int = 2048) -> bytes:
    head = (24).to_bytes(4, "big") + b"ftyp" + brand + b"\x00\x00\x02\x00" + b"isomiso2"
    return head + b"\x00" * (size - len(head))


def webm_bytes(size: int = 2048) -> bytes:
    head = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"
    return head + b"\x00" * (size - len(head))


def video(data: bytes, name: str = "clip.mp4", content_type: str = "video/mp4"):
    return SimpleUploadedFile(name, data, content_type)


def makeover_appointment(stylist, **extra):
    """A makeover appointment of the stylist's store, for a client who said yes to email."""
    customer = extra.pop("customer", None) or factories.CustomerFactory(
        first_name="Claire",
        last_name="Dubois",
        home_store=stylist.store,
        email="claire@example.com",
    )
    factories.ConsentEventFactory(customer=customer, channel="email", granted=True)
    return factories.AppointmentFactory(
        stylist=stylist,
        customer=customer,
        kind=factories.MakeoverKindFactory(),
        **extra,
    )
