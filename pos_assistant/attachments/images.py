"""Checks that an upload is a photo by its content, and re-encodes it.

Only what Pillow decodes as JPEG, PNG, WebP or HEIC/HEIF (iPhone photos, through pillow-heif)
is accepted, whatever the file is called. The
pixel count is checked from the header before anything is decoded (a few KB can claim to be a
gigapixel image), then the whole image is decoded (a truncated file fails here), turned upright
by its EXIF orientation and written out again as a new JPEG: nothing of the original file is
kept, so EXIF (GPS position, camera serial, time) and any appended data are gone.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, ImageOps, UnidentifiedImageError

pillow_heif.register_heif_opener()

# MPO: phone JPEGs with an embedded preview; HEIF: what iPhones save (HEIC).
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "MPO", "HEIF"})
MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is binned to 12 MP; 40 MP leaves room
MAX_SIDE = 2560  # stored photos are scaled down to this (enough to read a waybill)
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85


class ImageRejected(ValueError):
    """Why a file is not stored; `reason` names the user-facing text (data/channels/photos.yml)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProcessedImage:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int


def process_image(data: bytes, max_bytes: int) -> ProcessedImage:
    """The re-encoded photo and its thumbnail, or ImageRejected."""
    if len(data) > max_bytes:
        raise ImageRejected("too_large")
    if not data:
        raise ImageRejected("not_image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in ACCEPTED_FORMATS:
                    raise ImageRejected("not_image")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise ImageRejected("too_many_pixels")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected("too_many_pixels") from None
    except UnidentifiedImageError:
        raise ImageRejected("not_image") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # Pillow reports a cut-off or corrupt file as OSError ("image file is truncated") or
        # SyntaxError (broken PNG chunks).
        raise ImageRejected("damaged") from None
    photo = _flatten(upright)
    photo.thumbnail((MAX_SIDE, MAX_SIDE))
    thumbnail = photo.copy()
    thumbnail.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return ProcessedImage(_jpeg(photo), _jpeg(thumbnail), photo.width, photo.height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white (transparent PNG screenshots would otherwise turn black in JPEG)."""
    if image.mode in ("RGBA", "LA", "P"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=, icc_profile= or comment: the new file carries pixels only.
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()
