"""SVG pictures inside office documents: editors' metadata, paths and hidden photos taken out.

Office keeps a PNG copy beside each SVG, so a drawing that cannot be read safely is replaced by
an empty one rather than refusing the document. SVG is never accepted on its own (kinds.py).
"""
from __future__ import annotations

import base64
import binascii
import re

from lxml import etree

from forum.uploads import images
from forum.uploads.kinds import KINDS, Refused
from forum.uploads.xmlsafe import local, parse, serialize

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
EMPTY_SVG = b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'
# Namespaces of drawing programs: export paths, document names, layers' authors.
EDITOR_NAMESPACES = ("http://www.inkscape.org/", "http://sodipodi.sourceforge.net/",
                     "http://ns.adobe.com/", "http://www.bohemiancoding.com/",
                     "http://www.serif.com/", "http://www.figma.com/", "https://boxy-svg.com/",
                     "http://creativecommons.org/", "http://purl.org/dc/",
                     "http://www.w3.org/1999/02/22-rdf-syntax-ns#")
DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]{0,1000}>")  # a public identifier, no internal subset
PICTURE = re.compile(r"data:image/(jpeg|png|gif|webp);base64,([A-Za-z0-9+/=\s]*)\Z")
SAFE_LINKS = ("http://", "https://", "#")


def is_drawing(name: str, head: bytes) -> bool:
    return name.lower().endswith(".svg") or head.lstrip().startswith(b"<svg")


def clean_drawing(data: bytes, removed: set[str], max_pixels: int) -> bytes:
    """The drawing without comments, metadata, editors' attributes or photos' EXIF."""
    try:
        root = parse(DOCTYPE.sub(b"", data[:4096], count=1) + data[4096:])
    except Refused:
        removed.add("properties")  # entities or broken XML: not read, not kept
        return EMPTY_SVG
    if root.tag != f"{{{SVG_NS}}}svg":
        removed.add("properties")
        return EMPTY_SVG
    doomed = []
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments and processing instructions
            doomed.append(element)
            removed.add("comments")
        elif local(element.tag) == "metadata" or _editors(element.tag):
            doomed.append(element)
            removed.add("properties")
        else:
            _clean_attributes(element, removed, max_pixels)
    for element in doomed:
        if element.getparent() is not None:
            _remove_keeping_tail(element)
    etree.cleanup_namespaces(root)
    return serialize(root)


def _editors(name: str) -> bool:
    return name.startswith("{") and name[1:].startswith(EDITOR_NAMESPACES)


def _clean_attributes(element: etree._Element, removed: set[str], max_pixels: int) -> None:
    for key in list(element.attrib):
        if _editors(key):
            del element.attrib[key]  # inkscape:export-filename="/home/<name>/…"
            removed.add("paths")
    for key in (XLINK_HREF, "href"):
        link = element.get(key)
        if link is None or link.startswith(SAFE_LINKS):
            continue
        picture = PICTURE.match(link)
        if picture:
            element.set(key, _clean_picture(picture, removed, max_pixels))
        else:
            element.set(key, "#")  # file:///C:/Users/<name>/photo.jpg
            removed.add("external_links")


def _clean_picture(picture: re.Match[str], removed: set[str], max_pixels: int) -> str:
    try:
        data = base64.b64decode("".join(picture.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        return "#"
    kind = KINDS[picture.group(1)]
    cleaned, found = images.clean_image_data(data, kind, max_pixels)
    removed |= found
    return f"data:{kind.content_type};base64,{base64.b64encode(cleaned).decode('ascii')}"


def _remove_keeping_tail(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is None:  # the root stays (its caller never removes it)
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
