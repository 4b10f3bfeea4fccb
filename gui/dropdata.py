"""What a drag carries: local files and web URLs from ``QMimeData`` (text/uri-list, or http(s) lines of text)."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import urlsplit

from PySide6.QtCore import QMimeData, QUrl

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".m4v"})


def is_web_url(text: str) -> bool:
    """True for an http(s) URL with a host."""
    parts = urlsplit(text.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def dropped_items(mime: QMimeData | None) -> list[str]:
    """Local paths and http(s) URLs from a drag, in order; anything else is ignored."""
    if mime is None:
        return []
    items: list[str] = []
    if mime.hasUrls():
        for url in mime.urls():
            item = _from_url(url)
            if item:
                items.append(item)
    if not items and mime.hasText():
        for line in mime.text().splitlines():
            line = line.strip()
            if is_web_url(line):
                items.append(line)
            elif line.startswith("file://"):
                item = _from_url(QUrl(line))
                if item:
                    items.append(item)
    return list(dict.fromkeys(items))


def _from_url(url: QUrl) -> str | None:
    if url.isLocalFile():
        return url.toLocalFile() or None
    text = url.toString()
    return text if is_web_url(text) else None


def looks_like_video(item: str) -> bool:
    """True when a path or URL names a video file by its extension."""
    path = urlsplit(item).path if is_web_url(item) else item
    return PurePosixPath(path.replace("\\", "/")).suffix.lower() in VIDEO_EXTENSIONS
