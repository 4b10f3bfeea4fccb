"""Thumbnails: prepared-image previews and first frames of videos (PyAV), made in worker threads.

``ThumbnailCache`` keeps first-frame thumbnails on disk under the data dir (``thumbnails/``, owned by the GUI) so
the library opens fast and works offline; results come back on the GUI thread via :mod:`gui.work`. Image
files with the same content (every job of a batch keeps its own copy of the one input image) are decoded once and
share one pixmap.
"""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QImageReader, QPixmap

from core.errors import InputError
from core.imaging import ImageRules, prepare_image
from core.media import has_mp4_signature
from gui import work

THUMB_SIZE = 160
MAX_VIDEO_BYTES = 200 * 1024 * 1024
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")


@dataclass
class Preview:
    """A thumbnail of an input as it will be sent, and what was done to it."""

    image: QImage
    width: int
    height: int
    note: str
    warnings: list[str] = field(default_factory=list)  # much of the picture lost, enlarged, stretched


def _scaled(image: QImage, size: int) -> QImage:
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


def read_scaled(path: str, size: int) -> QImage:
    """An image file read at most ``size`` px, upright (EXIF orientation applied); a null image when unreadable.

    The decoder scales while it reads where it can (JPEG decodes at 1/2, 1/4 or 1/8 size), so a 24 MP photo's
    thumbnail costs a fraction of a full decode. Worker thread.
    """
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    stored = reader.size()
    if stored.isValid() and (stored.width() > size or stored.height() > size):
        reader.setScaledSize(stored.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio))
    return reader.read()


def prepared_preview(path: str, rules: ImageRules, size: int = THUMB_SIZE) -> Preview:
    """Prepare an image exactly as submission will, and thumbnail the result. Raises InputError. Worker thread."""
    prepared = prepare_image(Path(path), rules)
    image = QImage.fromData(prepared.data)
    if image.isNull():
        raise InputError(f"{Path(path).name}: the prepared image could not be shown.")
    note = "\n".join(line for line in prepared.note_lines() if not line.startswith("⚠"))
    return Preview(_scaled(image, size), prepared.width, prepared.height, note, list(prepared.warnings))


def first_frame_png(path: Path, size: int = 320) -> bytes:
    """The first decodable frame of a video as PNG bytes, at most ``size`` px. Raises ValueError. Worker thread."""
    import av  # PyAV and Pillow load with the first thumbnail made, not with the window
    import av.error
    from PIL import Image

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("the file has no video stream")
            for frame in container.decode(video=0):
                picture: Image.Image = frame.to_image()
                picture.thumbnail((size, size), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                picture.save(buffer, "PNG")
                return buffer.getvalue()
    except av.error.FFmpegError as exc:
        raise ValueError(f"the video cannot be decoded ({exc})") from None
    raise ValueError("no frame could be decoded")


def video_preview(path: str, size: int = THUMB_SIZE) -> Preview:
    """Check a motion video the way submission will and thumbnail its first frame. Raises InputError."""
    file = Path(path)
    name = file.name
    try:
        length = file.stat().st_size
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise InputError(f"Cannot read {name} ({exc.strerror or exc}).") from None
    if length == 0:
        raise InputError(f"{name} is empty.")
    if length > MAX_VIDEO_BYTES:
        raise InputError(f"{name} is over 200 MB.")
    if not has_mp4_signature(head):
        raise InputError(f"{name} is not an MP4 video.")
    try:
        image = QImage.fromData(first_frame_png(file, size))
    except ValueError as exc:
        raise InputError(f"{name}: {exc}.") from None
    return Preview(image, image.width(), image.height(), f"MP4 video, {length / 1_048_576:.1f} MB")


def _cache_key(path: Path) -> str:
    stat = path.stat()
    raw = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def content_digest(path: Path) -> str:
    """A digest of the file's bytes (worker thread: hashing is a small part of decoding it)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha1").hexdigest()


def cached_first_frame(path: Path, cache_dir: Path, size: int = 320) -> QImage:
    """First frame from the disk cache, making and storing it when missing. Raises ValueError/OSError."""
    key = _cache_key(path)
    cached = cache_dir / f"{key}.png"
    if cached.exists():
        image = QImage(str(cached))
        if not image.isNull():
            return image
    data = first_frame_png(path, size)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(cached)
    return QImage.fromData(data)


class ThumbnailCache(QObject):
    """First-frame thumbnails of videos (and images), cached in memory and on disk; ``ready(path)`` on arrival."""

    ready = Signal(str)

    def __init__(self, cache_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache_dir = cache_dir
        self._pixmaps: dict[str, QPixmap] = {}
        self._icons: dict[str, QIcon] = {}
        self._failed: set[str] = set()
        self._pending: set[str] = set()
        self._shared: dict[str, QPixmap] = {}  # content digest -> the pixmap of every path with that content
        self._decoded: dict[str, QImage] = {}  # content digest -> image (worker threads share it)
        self._lock = threading.Lock()

    def get(self, path: str | None) -> QPixmap | None:
        """The thumbnail if it is ready; otherwise None, and it is made in the background."""
        if not path:
            return None
        pixmap = self._pixmaps.get(path)
        if pixmap is not None or path in self._failed or path in self._pending:
            return pixmap
        self._pending.add(path)
        work.run(self._make, path, owner=self, on_done=lambda made: self._made(path, made),
                 on_error=lambda _error: self._made(path, None))
        return None

    def icon(self, path: str | None) -> QIcon | None:
        """The thumbnail as an icon (views scale icons to their icon size; pixmaps they show as they are)."""
        pixmap = self.get(path)
        if pixmap is None or path is None:
            return None
        icon = self._icons.get(path)
        if icon is None:
            icon = self._icons[path] = QIcon(pixmap)
        return icon

    def _make(self, path: str) -> tuple[str, QImage]:
        """(a key shared by files of the same content, the image). Worker thread."""
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(path)
        if file.suffix.lower() in IMAGE_SUFFIXES:
            return self._image(file)
        still = file.with_suffix(".thumbnail.webp")  # the provider's own thumbnail, kept by the engine (Sora)
        if still.is_file():
            image = read_scaled(str(still), 320)
            if not image.isNull():
                return path, image
        return path, cached_first_frame(file, self.cache_dir)

    def _image(self, file: Path) -> tuple[str, QImage]:
        digest = content_digest(file)
        with self._lock:
            known = self._decoded.get(digest)
        if known is not None:
            return digest, known
        image = read_scaled(str(file), 320)
        if image.isNull():
            raise ValueError("not an image")
        with self._lock:
            self._decoded[digest] = image
        return digest, image

    def _made(self, path: str, made: tuple[str, QImage] | None) -> None:
        """A thumbnail is in (None: it could not be made)."""
        self._pending.discard(path)
        if made is None or made[1].isNull():
            self._failed.add(path)
            return
        key, image = made
        pixmap = self._shared.get(key)
        if pixmap is None:
            pixmap = self._shared[key] = QPixmap.fromImage(image)
        self._pixmaps[path] = pixmap
        self.ready.emit(path)

    def forget(self, path: str) -> None:
        """Drop a path from memory (the file changed or went away)."""
        self._pixmaps.pop(path, None)
        self._shared.pop(path, None)  # (a video's key is its path)
        self._icons.pop(path, None)
        self._failed.discard(path)
