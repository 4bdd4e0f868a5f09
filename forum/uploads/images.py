"""Images: checked before decoding, turned upright, then re-encoded from their pixels alone.

Re-encoding drops everything but the pixels: EXIF (GPS position, device, serial numbers, dates),
XMP, IPTC, comments (which Pillow would otherwise keep in JPEG and GIF files), PNG text chunks
and the colour profile (converted to sRGB first, so colours stay right). It also drops whatever
another format hid after or inside the image (a GIF that is also a script).
"""
from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import IO

from PIL import Image, ImageCms, ImageOps, ImageSequence

from forum.uploads.kinds import KINDS, N_, Kind, Refused
from forum.uploads.sizes import SIZE_QUALITY, size_widths, sized_path

THUMBNAIL_SIZE = 320  # pixels, the longer side
THUMBNAIL_QUALITY = 80
JPEG_QUALITY = 90
WEBP_QUALITY = 90
# The only entries of Image.info written back: what the pixels need to look the same.
KEPT_INFO = ("transparency", "duration", "loop", "background")

GPS_IFD, EXIF_IFD, ORIENTATION = 0x8825, 0x8769, 0x0112
EXIF_CODES = {
    0x010F: "camera", 0x0110: "camera", 0xA433: "camera", 0xA434: "camera",  # make, model, lens
    0xA431: "serial", 0xA435: "serial", 0x927C: "serial",  # body, lens serial; maker notes
    0x0132: "dates", 0x9003: "dates", 0x9004: "dates",
    0x013B: "author", 0x8298: "author", 0xA430: "author",  # artist, copyright, owner
    0x0131: "software", 0x9286: "comments", 0x010E: "comments",  # user comment, description
}
# Our own check, with its message, runs on the header's size right after open(): Pillow's
# DecompressionBombError would only say "damaged".
Image.MAX_IMAGE_PIXELS = None
# Office documents may hold TIFF pictures (never accepted on their own): cleaned the same way.
TIFF = Kind("tiff", "TIFF", "image/tiff", ("tif", "tiff"), "image", "TIFF")
TOO_LARGE = N_("This image is too large: %(width)s × %(height)s pixels (at most %(max)s "
               "million pixels).")


def clean_image(src: Path, dst: Path, thumb: Path, kind: Kind, max_pixels: int,
                sizes: Path | None = None) -> tuple[int, int, set[str], list[list[int]]]:
    """Write the cleaned image to dst, its thumbnail to thumb and its smaller copies to
    <sizes>.<width>; (width, height, removed, [[width, height] of each copy made])."""
    with Image.open(src, formats=[kind.pil_format]) as img:
        width, height = img.size  # from the header: nothing is decoded yet
        if width * height > max_pixels or max(width, height) > 65_000:
            raise Refused(TOO_LARGE, width=width, height=height, max=max_pixels // 1_000_000)
        frames = getattr(img, "n_frames", 1)
        if frames * width * height > max_pixels:
            raise Refused(N_("This animation is too large: %(frames)s images of %(width)s × "
                             "%(height)s pixels."), frames=frames, width=width, height=height)
        removed = found_metadata(img)
        if "icc_profile" in img.info:
            removed.add("icc")
        if frames > 1:
            first = _save_animation(img, dst, kind)
        else:
            img.load()  # a truncated file fails here
            first = _upright(img)
            first = _fresh(_to_srgb(first, img.info.get("icc_profile")))
            _save(first, dst, kind, lossless=_is_lossless_webp(src, kind))
        save_thumbnail(first, thumb)
        made = save_sizes(first, sizes) if sizes is not None else []
        return first.width, first.height, removed, made


def sized_copies(src: Path, kind: Kind, max_pixels: int, sizes: Path) -> list[list[int]]:
    """The smaller copies of an image already cleaned and stored (made before 0026_photos)."""
    with Image.open(src, formats=[kind.pil_format]) as img:
        width, height = img.size
        if width * height > max_pixels or max(width, height) > 65_000:
            raise Refused(TOO_LARGE, width=width, height=height, max=max_pixels // 1_000_000)
        img.load()
        # A stored file is upright already, its tag gone; exif_transpose is a no-op then.
        return save_sizes(_fresh(_upright(img)), sizes)


def save_sizes(img: Image.Image, prefix: Path) -> list[list[int]]:
    """JPEG copies of `img` (made from the cleaned pixels: nothing the file lost comes back) at
    each width of size_widths, as <prefix>.<width> (transparency on white, no metadata); the
    [width, height] of each, smallest first."""
    made = []
    for width in size_widths(img.width):
        height = max(1, round(img.height * width / img.width))
        small = img if width == img.width else img.resize((width, height), Image.Resampling.LANCZOS,
                                                           reducing_gap=3.0)
        _save_jpeg_copy(small, sized_path(prefix, width), SIZE_QUALITY)
        made.append([width, height])
    return made


def clean_image_data(data: bytes, kind: Kind, max_pixels: int) -> tuple[bytes, set[str]]:
    """A picture inside a document, re-encoded in its own format like an upload (no thumbnail).

    Its orientation tag stays (alone): the document sized the picture's frame for the way the
    office application showed it, so the pixels keep their layout and their tag.
    """
    src, dst = BytesIO(data), BytesIO()
    with Image.open(src, formats=[kind.pil_format]) as img:
        width, height = img.size
        frames = getattr(img, "n_frames", 1)
        if frames * width * height > max_pixels or max(width, height) > 65_000:
            raise Refused(TOO_LARGE, width=width, height=height, max=max_pixels // 1_000_000)
        removed = found_metadata(img)
        if "icc_profile" in img.info:
            removed.add("icc")
        if frames > 1:
            _save_animation(img, dst, kind)
        else:
            img.load()
            orientation = img.getexif().get(ORIENTATION, 1)
            first = _fresh(_to_srgb(img, img.info.get("icc_profile")))
            _save(first, dst, kind, lossless=kind.name == "webp" and _is_lossless(data[:40]),
                  exif=_orientation_only(orientation))
    return dst.getvalue(), removed


def _orientation_only(orientation: object) -> bytes:
    if orientation not in range(2, 9):
        return b""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()


def embedded_kind(head: bytes) -> Kind | None:
    """The kind of a picture stored inside a document, from its first bytes."""
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return KINDS["gif"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return KINDS["webp"]
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    return None


def found_metadata(img: Image.Image) -> set[str]:
    """What the image carries besides its pixels, as codes (see pipeline.REMOVED_LABELS)."""
    found: set[str] = set()
    exif = img.getexif()
    if GPS_IFD in exif and exif.get_ifd(GPS_IFD):
        found.add("gps")
    tags = set(exif) | set(exif.get_ifd(EXIF_IFD))
    found |= {EXIF_CODES[tag] for tag in tags if tag in EXIF_CODES}
    if tags - {0x0112, GPS_IFD, EXIF_IFD, 0x011A, 0x011B, 0x0128, 0x0213}:  # orientation, dpi
        found.add("exif")
    info = img.info
    if "xmp" in info or "XML:com.adobe.xmp" in info:
        found.add("xmp")
    if "photoshop" in info or any(marker == "APP13" for marker, _ in getattr(img, "applist", ())):
        found.add("iptc")
    if info.get("comment"):
        found.add("comments")
    if getattr(img, "text", None):  # PNG tEXt, zTXt and iTXt chunks
        found.add("text_chunks")
    return found


def _upright(img: Image.Image) -> Image.Image:
    """The pixels turned as the EXIF orientation says, so the photo looks the same without it."""
    return ImageOps.exif_transpose(img) or img


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """Colours converted from an embedded profile to sRGB (the profile itself is dropped)."""
    if img.mode == "CMYK":
        img = _convert_profile(img, icc, "RGB") if icc else img.convert("RGB")
    elif icc and img.mode in ("RGB", "RGBA", "L"):
        img = _convert_profile(img, icc, img.mode)
    return img


def _convert_profile(img: Image.Image, icc: bytes, mode: str) -> Image.Image:
    if mode == "L":
        return img  # grey profiles change little; the profile is dropped all the same
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc))
        target = ImageCms.createProfile("sRGB")
        return ImageCms.profileToProfile(img, source, target, outputMode=mode) or img
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img.convert(mode) if img.mode != mode else img  # a broken profile: dropped


def _fresh(img: Image.Image) -> Image.Image:
    """A copy with no metadata left in it but what the pixels need."""
    copy = img.copy()
    copy.info = {key: img.info[key] for key in KEPT_INFO if key in img.info}
    return copy


def _save(img: Image.Image, dst: Path | IO[bytes], kind: Kind, lossless: bool = False,
          exif: bytes = b"") -> None:
    """Pixels only; `exif` is at most an orientation tag (see clean_image_data)."""
    if kind.name == "jpeg":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        img.save(dst, "JPEG", quality=JPEG_QUALITY, optimize=True, exif=exif)
    elif kind.name == "webp":
        img.save(dst, "WEBP", quality=WEBP_QUALITY, lossless=lossless, exif=exif, xmp=b"")
    elif kind.name == "png":
        img.save(dst, "PNG", optimize=False, exif=exif or None)
    elif kind.name == "tiff":
        img.save(dst, "TIFF", compression="tiff_deflate")
    else:
        img.save(dst, "GIF")


def _is_lossless_webp(src: Path, kind: Kind) -> bool:
    if kind.name != "webp":
        return False
    with src.open("rb") as file:
        return _is_lossless(file.read(40))


def _is_lossless(header: bytes) -> bool:
    return header[12:16] == b"VP8L" or (header[12:16] == b"VP8X" and b"VP8L" in header)


def _save_animation(img: Image.Image, dst: Path | IO[bytes], kind: Kind) -> Image.Image:
    """Every frame, re-encoded with its timing: an animated GIF stays animated."""
    frames, durations = [], []
    for frame in ImageSequence.Iterator(img):
        frame.load()
        durations.append(int(frame.info.get("duration", 100)))
        fresh = frame.convert("RGBA")
        fresh.info = {}
        frames.append(fresh)
    options = {"save_all": True, "append_images": frames[1:], "duration": durations,
               "loop": int(img.info.get("loop", 0))}
    if kind.name == "gif":
        frames[0].save(dst, "GIF", disposal=2, **options)
    elif kind.name == "webp":
        frames[0].save(dst, "WEBP", quality=WEBP_QUALITY, exif=b"", xmp=b"", **options)
    elif kind.name == "tiff":
        frames[0].save(dst, "TIFF", save_all=True, append_images=frames[1:])
    else:
        frames[0].save(dst, "PNG", **options)
    return frames[0]


def save_thumbnail(img: Image.Image, thumb: Path) -> None:
    """A small JPEG of any picture (an image, a PDF's first page), transparency on white."""
    small = img.copy()
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    _save_jpeg_copy(small, thumb, THUMBNAIL_QUALITY)


def _save_jpeg_copy(small: Image.Image, path: Path, quality: int) -> None:
    """A JPEG of pixels alone: transparency flattened on white, no EXIF, comment or profile."""
    if small.mode in ("RGBA", "LA", "PA") or (small.mode == "P" and "transparency" in small.info):
        small = small.convert("RGBA")
        background = Image.new("RGB", small.size, "white")
        background.paste(small, mask=small.getchannel("A"))
        small = background
    elif small.mode != "RGB":
        small = small.convert("RGB")
    else:
        small = small.copy()
    small.info = {}
    small.save(path, "JPEG", quality=quality, optimize=True)
