"""The Sequence tab: finished clips dragged into order on a strip, trimmed, played as one piece, exported as one MP4.

The rules live in ``core.sequence`` (editing, copy or re-encode, crossfade, export); this tab only shows and asks.
Sequences are kept in the job store (one world each) and written after every edit. Exports run in a worker thread
(``gui.work``) with a progress bar and Cancel; the window never waits. "Continue this clip" puts the clip's
last frame (at its out point) into the Studio's form through the frame chainer; the job submitted with that frame
is remembered by the sequence and placed right after the clip when it finishes — after a restart too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QAbstractItemModel, QItemSelectionModel, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import ReeldeckError
from core.jobs import Job
from core.sequence import (
    MAX_CROSSFADE_FRAMES,
    QUALITIES,
    CancelToken,
    ClipInfo,
    ExportCancelled,
    ExportResult,
    Sequence,
    export_sequence,
    plan_export,
    probe,
)
from core.submission import JobRequest
from gui import work
from gui.chain import FrameChainer
from gui.layouts import column, vertical_scroll
from gui.sequence_preview import SequencePreview
from gui.sequence_strip import FinishedClips, StripModel
from gui.thumbs import ThumbnailCache
from gui.wheel_guard import guard_wheel

if TYPE_CHECKING:
    from core.store import JobStore

FilePicker = Callable[[str], str | None]
Confirm = Callable[[str, str], bool]
NamePicker = Callable[[str, str], str | None]


class SequenceView(QWidget):
    """The Sequence tab over the job store, the library's videos and the Studio's frame chainer."""

    message = Signal(str)
    exportFinished = Signal(str, bool)  # report, ok
    _exportProgress = Signal(int, int)  # from the export's worker thread

    def __init__(self, store: JobStore, library: QAbstractItemModel, chainer: FrameChainer | None = None,
                 thumbs: ThumbnailCache | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SequenceView")
        self.store = store
        self.chainer = chainer
        self.sequences: list[Sequence] = []
        self.infos: dict[str, ClipInfo] = {}
        self.exporting: CancelToken | None = None
        self.last_export: ExportResult | None = None
        #: Frames placed in the form for "Continue this clip": frame file → (sequence id, job id of the clip).
        self.continuations: dict[str, tuple[str, str]] = {}
        self._asking: tuple[str, str, str] | None = None  # (video stem, sequence id, clip job id)
        self._loading = False
        #: Replaceable questions (tests answer without dialogs).
        self.pick_file: FilePicker = self._ask_file
        self.confirm: Confirm = self._ask_yes
        self.pick_name: NamePicker = self._ask_name

        self.strip_model = StripModel(self._job, thumbs, self)
        self.finished_clips = FinishedClips(self)
        self.finished_clips.setSourceModel(library)
        self._build()
        self._connect()
        self.load()
        guard_wheel(self)

    # --- building ----------------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.chooser = QComboBox(self)
        self.chooser.setObjectName("SequenceChooser")
        self.chooser.setMinimumContentsLength(18)
        self.new_button = QPushButton("New sequence", self)
        self.rename_button = QPushButton("Rename…", self)
        self.delete_button = QPushButton("Delete", self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Sequence:", self))
        top.addWidget(self.chooser)
        for button in (self.new_button, self.rename_button, self.delete_button):
            top.addWidget(button)
        top.addStretch(1)

        self.clips_view = QListView(self)
        self.clips_view.setObjectName("FinishedClips")
        self.clips_view.setModel(self.finished_clips)
        self.clips_view.setIconSize(QSize(72, 44))
        self.clips_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.clips_view.setDragEnabled(True)
        self.clips_view.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.clips_view.setWordWrap(True)
        self.clips_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.add_button = QPushButton("Add to the sequence ↓", self)
        self.add_button.setToolTip("Append the selected videos to the strip (or drag them onto it)")
        source = QGroupBox("Finished videos", self)
        source_layout = QVBoxLayout(source)
        source_layout.addWidget(QLabel("Drag onto the strip, or select and add.", self))
        source_layout.addWidget(self.clips_view, 1)
        source_layout.addWidget(self.add_button)

        self.preview = SequencePreview(self)
        self.plan_label = QLabel("", self)
        self.plan_label.setObjectName("SequencePlan")
        self.plan_label.setProperty("role", "note")
        self.plan_label.setWordWrap(True)
        watch = column(self, (self.preview, 1), self.plan_label)

        self.clip_title = QLabel("Select a clip on the strip to trim it.", self)
        self.clip_title.setObjectName("ClipTitle")
        self.clip_title.setWordWrap(True)
        self.in_spin = self._seconds_spin("In point: the clip starts at this time")
        self.out_spin = self._seconds_spin("Out point: the clip ends before this time")
        self.continue_button = QPushButton("Continue this clip…", self)
        self.continue_button.setObjectName("ContinueClip")
        self.continue_button.setToolTip("Put the clip's last frame (at its out point) into the Studio's form: the "
                                        "job you submit with it, with any provider and model, is placed right after "
                                        "this clip when it finishes")
        self.remove_button = QPushButton("Remove from the sequence", self)
        clip_box = QGroupBox("Clip", self)
        clip_form = QFormLayout(clip_box)
        clip_form.addRow(self.clip_title)
        clip_form.addRow("In", self.in_spin)
        clip_form.addRow("Out", self.out_spin)
        clip_form.addRow(self.continue_button)
        clip_form.addRow(self.remove_button)

        self.crossfade_spin = QSpinBox(self)
        self.crossfade_spin.setRange(0, MAX_CROSSFADE_FRAMES)
        self.crossfade_spin.setSuffix(" frames")
        self.crossfade_spin.setSpecialValueText("none (cut)")
        self.crossfade_spin.setToolTip("Blend each clip into the next over this many frames (re-encodes)")
        self.quality_combo = QComboBox(self)
        for key, (label, _crf) in QUALITIES.items():
            self.quality_combo.addItem(label, key)
        self.quality_combo.setToolTip("Used when the clips must be re-encoded (stream copy keeps them as they are)")
        self.export_button = QPushButton("Export MP4…", self)
        self.export_button.setObjectName("ExportSequence")
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.progress.setFormat("%p%")
        self.cancel_button = QPushButton("Cancel export", self)
        self.cancel_button.setVisible(False)
        export_box = QGroupBox("Export", self)
        export_form = QFormLayout(export_box)
        export_form.addRow("Crossfade", self.crossfade_spin)
        export_form.addRow("Quality", self.quality_combo)
        export_form.addRow(self.export_button)
        export_form.addRow(self.progress)
        export_form.addRow(self.cancel_button)

        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 4, 0)
        side_layout.addWidget(clip_box)
        side_layout.addWidget(export_box)
        side_layout.addStretch(1)
        side.setMinimumWidth(230)
        self.side = vertical_scroll(self, side, framed=False)
        self.side.setObjectName("SequenceSide")

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("SequenceSplitter")
        self.splitter.addWidget(source)
        self.splitter.addWidget(watch)
        self.splitter.addWidget(self.side)
        self.splitter.setChildrenCollapsible(False)
        for index, stretch in enumerate((1, 3, 0)):
            self.splitter.setStretchFactor(index, stretch)
        self.splitter.setSizes([260, 640, 250])

        self.strip = QListView(self)
        self.strip.setObjectName("SequenceStrip")
        self.strip.setModel(self.strip_model)
        self.strip.setFlow(QListView.Flow.LeftToRight)
        self.strip.setWrapping(False)
        self.strip.setIconSize(QSize(96, 54))
        self.strip.setGridSize(QSize(168, 104))
        self.strip.setViewMode(QListView.ViewMode.IconMode)
        self.strip.setMovement(QListView.Movement.Snap)
        self.strip.setWordWrap(True)
        self.strip.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.strip.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.strip.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.strip.setDropIndicatorShown(True)
        self.strip.setFixedHeight(126)
        self.strip.setToolTip("The sequence, in order: drag clips to reorder, drag finished videos in")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(QLabel("The strip — drag to reorder; drop finished videos here:", self))
        layout.addWidget(self.strip)

    def _seconds_spin(self, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self)
        spin.setDecimals(3)
        spin.setSuffix(" s")
        spin.setToolTip(tip)
        spin.setKeyboardTracking(False)
        spin.setEnabled(False)
        return spin

    def _connect(self) -> None:
        self.chooser.currentIndexChanged.connect(self._chosen)
        self.new_button.clicked.connect(lambda: self.new_sequence())
        self.rename_button.clicked.connect(self.rename)
        self.delete_button.clicked.connect(self.delete)
        self.add_button.clicked.connect(self.add_selected)
        self.clips_view.doubleClicked.connect(lambda _index: self.add_selected())
        self.strip_model.edited.connect(self._edited)
        self.strip_model.rejected.connect(self.message)
        self.strip_model.rowsMoved.connect(lambda *_: self._select_row(self._row_after_move()))
        self.strip.selectionModel().currentChanged.connect(lambda current, _prev: self._show_clip(current.row()))
        self.in_spin.valueChanged.connect(lambda _v: self._trim())
        self.out_spin.valueChanged.connect(lambda _v: self._trim())
        self.remove_button.clicked.connect(self.remove_clip)
        self.continue_button.clicked.connect(self.continue_clip)
        self.crossfade_spin.valueChanged.connect(self._set_crossfade)
        self.quality_combo.currentIndexChanged.connect(self._set_quality)
        self.preview.play_button.clicked.connect(self.toggle_play)
        self.preview.message.connect(self.message)
        self.export_button.clicked.connect(lambda: self.export())
        self.cancel_button.clicked.connect(self.cancel_export)
        self._exportProgress.connect(self._on_progress)
        if self.chainer is not None:
            self.chainer.placed.connect(self._frame_placed)

    # --- sequences -------------------------------------------------------------------------------------------

    @property
    def current(self) -> Sequence | None:
        return self.strip_model.sequence

    def load(self) -> None:
        """Read this world's sequences and place continuations that finished while the window was closed."""
        self.sequences = self.store.sequences()
        for sequence in self.sequences:
            for job_id in list(sequence.waiting):
                job = self.store.find(job_id)
                if job is None:  # deleted meanwhile: nothing will come
                    del sequence.waiting[job_id]
                elif job.terminal:
                    sequence.settle(job)
                if job_id not in sequence.waiting:
                    self.store.save_sequence(sequence)
        self._fill_chooser(self.sequences[0].id if self.sequences else None)

    def _fill_chooser(self, select: str | None) -> None:
        self._loading = True
        self.chooser.clear()
        for sequence in self.sequences:
            self.chooser.addItem(sequence.name, sequence.id)
        self._loading = False
        index = self.chooser.findData(select) if select else -1
        self.chooser.setCurrentIndex(index)
        self._chosen(index)

    def _chosen(self, index: int) -> None:
        if self._loading:
            return
        sequence = self.sequences[index] if 0 <= index < len(self.sequences) else None
        self.preview.stop()
        self.strip_model.set_sequence(sequence)
        self._loading = True
        self.crossfade_spin.setValue(sequence.crossfade if sequence else 0)
        self.quality_combo.setCurrentIndex(max(0, self.quality_combo.findData(sequence.quality if sequence else "")))
        self._loading = False
        for widget in (self.rename_button, self.delete_button, self.crossfade_spin, self.quality_combo,
                       self.export_button, self.preview.play_button):
            widget.setEnabled(sequence is not None)
        self._show_clip(-1)
        self._update_plan()

    def new_sequence(self, name: str | None = None) -> Sequence:
        sequence = Sequence.new(name or f"Sequence {len(self.sequences) + 1}")
        self.store.save_sequence(sequence)
        self.sequences.append(sequence)
        self._fill_chooser(sequence.id)
        return sequence

    def rename(self) -> None:
        sequence = self.current
        if sequence is None:
            return
        name = self.pick_name("Rename the sequence", sequence.name)
        if name and name.strip():
            sequence.name = name.strip()
            self.store.save_sequence(sequence)
            self.chooser.setItemText(self.chooser.currentIndex(), sequence.name)

    def delete(self) -> None:
        sequence = self.current
        if sequence is None or not self.confirm("Delete the sequence",
                                                f"Delete “{sequence.name}”? The videos themselves stay."):
            return
        self.store.delete_sequence(sequence.id)
        self.sequences.remove(sequence)
        self._fill_chooser(self.sequences[0].id if self.sequences else None)

    def _edited(self) -> None:
        if self.current is not None:
            self.store.save_sequence(self.current)
        self._update_plan()

    def _job(self, job_id: str) -> Job | None:
        return self.store.find(job_id)

    # --- clips -----------------------------------------------------------------------------------------------

    def add_selected(self) -> int:
        """Append the videos selected in the list of finished videos (a new sequence when there is none)."""
        rows = sorted(i.row() for i in self.clips_view.selectionModel().selectedIndexes())
        jobs = [j for j in (self.finished_clips.job_at(r) for r in rows) if j is not None]
        if not jobs:
            self.message.emit("Select finished videos to add.")
            return 0
        if self.current is None:
            self.new_sequence()
        placed = self.strip_model.insert_jobs(jobs, self.strip_model.rowCount())
        self._select_row(self.strip_model.rowCount() - 1)
        return placed

    def remove_clip(self) -> None:
        row = self.strip.currentIndex().row()
        if self.strip_model.remove(row) is not None:
            self._select_row(min(row, self.strip_model.rowCount() - 1))

    def _row_after_move(self) -> int:
        return self.strip.currentIndex().row()

    def _select_row(self, row: int) -> None:
        if 0 <= row < self.strip_model.rowCount():
            self.strip.selectionModel().setCurrentIndex(self.strip_model.index(row, 0),
                                                        QItemSelectionModel.SelectionFlag.ClearAndSelect)
        else:
            self._show_clip(-1)

    def _show_clip(self, row: int) -> None:
        clip = self.strip_model.clip(row)
        for widget in (self.in_spin, self.out_spin, self.continue_button, self.remove_button):
            widget.setEnabled(clip is not None)
        if clip is None:
            self.clip_title.setText("Select a clip on the strip to trim it.")
            return
        self.clip_title.setText(f"Clip {row + 1}: {self.strip_model.label(clip.job_id)}")
        info = self.infos.get(clip.path)
        if info is None:
            self.in_spin.setEnabled(False)
            self.out_spin.setEnabled(False)
            self._probe([clip.path], lambda: self._show_clip(self.strip.currentIndex().row()))
            return
        self._loading = True
        step = float(1 / info.rate)
        for spin in (self.in_spin, self.out_spin):
            spin.setRange(0.0, info.duration)
            spin.setSingleStep(step)
        self.in_spin.setValue(info.span(clip)[0])
        self.out_spin.setValue(info.duration if clip.end is None else info.span(clip)[1])
        self._loading = False
        self.clip_title.setText(f"Clip {row + 1}: {self.strip_model.label(clip.job_id)} · {info.duration:.2f} s, "
                                f"{info.frames} frames at {float(info.rate):g} fps")

    def _trim(self) -> None:
        if self._loading or self.current is None:
            return
        row = self.strip.currentIndex().row()
        clip = self.strip_model.clip(row)
        info = self.infos.get(clip.path) if clip is not None else None
        if clip is None or info is None:
            return
        try:
            self.current.trim(row, self.in_spin.value(), self.out_spin.value(), info.duration)
        except ReeldeckError as exc:
            self.message.emit(exc.message)
            self._show_clip(row)  # back to what the clip is
            return
        self.strip_model.clip_changed(row)

    def _set_crossfade(self, frames: int) -> None:
        if not self._loading and self.current is not None:
            self.current.set_crossfade(frames)
            self._edited()

    def _set_quality(self, _index: int) -> None:
        if not self._loading and self.current is not None:
            self.current.quality = str(self.quality_combo.currentData())
            self._edited()

    # --- facts about the clips (read in a worker) -----------------------------------------------------------------

    def _probe(self, paths: list[str], then: Callable[[], None]) -> None:
        wanted = [p for p in dict.fromkeys(paths) if p not in self.infos]
        if not wanted:
            then()
            return
        work.run(lambda: [probe(p) for p in wanted], owner=self, on_done=functools.partial(self._probed, then),
                 on_error=self._probe_failed)

    def _probe_failed(self, error: BaseException) -> None:
        self.plan_label.setText(error.message if isinstance(error, ReeldeckError) else f"Cannot read: {error}")

    def _probed(self, then: Callable[[], None], result: list[ClipInfo]) -> None:
        for info in result:
            self.infos[info.path] = info
        then()

    def _update_plan(self) -> None:
        """Say how the export will be made (stream copy or re-encode, and why) or why it cannot be."""
        sequence = self.current
        if sequence is None or not sequence.clips:
            self.plan_label.setText("Drag finished videos onto the strip below to build a sequence."
                                    if sequence is not None else "Make a sequence: New sequence, or add videos.")
            return
        missing = [c.path for c in sequence.clips if c.path not in self.infos]
        if missing:
            self._probe(missing, self._update_plan)
            return
        try:
            plan = plan_export(sequence, [self.infos[c.path] for c in sequence.clips])
        except ReeldeckError as exc:
            self.plan_label.setText(exc.message)
            return
        self.plan_label.setText(f"{len(sequence.clips)} clips, {plan.duration:.2f} s, {plan.total_frames} frames. "
                                f"Export: {plan.describe()}")

    # --- playing -----------------------------------------------------------------------------------------------

    def toggle_play(self) -> None:
        if self.preview.playing:
            self.preview.stop()
        elif self.current is not None and self.current.clips:
            self.preview.play(self.current)
        else:
            self.message.emit("The sequence is empty: add finished videos first.")

    # --- exporting -----------------------------------------------------------------------------------------------

    def export(self, target: Path | None = None) -> bool:
        """Ask where, then write the MP4 in a worker thread; False when nothing starts."""
        sequence = self.current
        if self.exporting is not None:
            self.message.emit("An export is still running.")
            return False
        if sequence is None or not sequence.clips:
            self.message.emit("The sequence is empty: add finished videos first.")
            return False
        if target is None:
            chosen = self.pick_file(f"{sequence.name}.mp4")
            if not chosen:
                return False
            target = Path(chosen) if chosen.lower().endswith(".mp4") else Path(chosen + ".mp4")
        copy = Sequence.from_body(sequence.id, sequence.name, sequence.body(), 0.0, 0.0)
        token = CancelToken()
        self.exporting = token
        self._exporting_ui(True)
        work.run(functools.partial(export_sequence, copy, target, cancel=token, progress=self._exportProgress.emit),
                 owner=self, on_done=self._exported, on_error=self._export_failed)
        return True

    def cancel_export(self) -> None:
        if self.exporting is not None:
            self.exporting.cancel()
            self.cancel_button.setEnabled(False)
            self.progress.setFormat("Cancelling…")

    def _exporting_ui(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.export_button.setEnabled(not busy)
        self.progress.setFormat("%p%")
        self.progress.setRange(0, 0 if busy else 1)  # busy until the first figures arrive

    def _on_progress(self, done: int, total: int) -> None:
        if self.exporting is not None and not self.exporting.cancelled:
            self.progress.setRange(0, max(1, total))
            self.progress.setValue(done)

    def _exported(self, result: ExportResult) -> None:
        self.last_export = result
        self._export_ended(f"Exported {result.plan.total_frames} frames ({result.plan.duration:.2f} s) to "
                           f"{result.path}. {result.plan.describe()}", True)

    def _export_failed(self, error: BaseException) -> None:
        if isinstance(error, ExportCancelled):
            self._export_ended("The export was cancelled; no file was written.", False)
            return
        reason = error.message if isinstance(error, ReeldeckError) else f"{type(error).__name__}: {error}"
        self._export_ended(f"The sequence was not exported: {reason}", False)

    def _export_ended(self, text: str, ok: bool) -> None:
        self.exporting = None
        self._exporting_ui(False)
        self.plan_label.setText(text)
        self.message.emit(text)
        self.exportFinished.emit(text, ok)

    # --- continuing a clip ---------------------------------------------------------------------------------------

    def continue_clip(self) -> bool:
        """The selected clip's last frame (at its out point) into the Studio's form, for a new job."""
        sequence, row = self.current, self.strip.currentIndex().row()
        clip = self.strip_model.clip(row)
        if sequence is None or clip is None or self.chainer is None:
            return False
        info = self.infos.get(clip.path)
        seconds: float | None = None
        if clip.end is not None and info is not None:
            start, end = info.span(clip)
            seconds = max((t for t in info.times if start <= t < end), default=start)
        self._asking = (Path(clip.path).stem, sequence.id, clip.job_id)
        if not self.chainer.use_frame(clip.path, seconds):
            self._asking = None
            return False
        self.message.emit("Taking the clip's last frame into the Studio's form…")
        return True

    def _frame_placed(self, _slot: str, frame: str) -> None:
        if self._asking is not None and Path(frame).name.startswith(self._asking[0]):
            self.continuations[frame] = self._asking[1:]
            self.message.emit("The frame is in the form: pick any provider and model and submit; the video is "
                              "placed after the clip when it finishes.")
        self._asking = None

    def job_submitted(self, request: JobRequest, job: Job) -> None:
        """A job was queued from the form: if it carries a continuation's frame, its sequence waits for it."""
        sent = {path for paths in request.inputs.values() for path in paths}
        for frame in sent & set(self.continuations):
            sequence_id, after = self.continuations.pop(frame)
            sequence = next((s for s in self.sequences if s.id == sequence_id), None)
            if sequence is not None:
                sequence.continue_with(job.id, after)
                self.store.save_sequence(sequence)
                self.message.emit(f"When it finishes, the new video is placed in “{sequence.name}” after its clip.")
                return

    def on_job(self, job: Job) -> None:
        """An engine event: place a finished continuation after its clip."""
        for sequence in self.sequences:
            if job.id not in sequence.waiting or not job.terminal:
                continue
            placed = sequence.settle(job)
            self.store.save_sequence(sequence)
            if sequence is self.current:
                self.strip_model.reload()
                self._update_plan()
            if placed is not None:
                self.message.emit(f"The continued clip is in “{sequence.name}”.")

    # --- questions -------------------------------------------------------------------------------------------------

    def _ask_file(self, suggested: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Export the sequence as MP4", suggested, "MP4 video (*.mp4)")
        return path or None

    def _ask_yes(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_name(self, title: str, current: str) -> str | None:
        name, ok = QInputDialog.getText(self, title, "Name:", text=current)
        return name if ok else None

    def shutdown(self) -> None:
        """Stop the preview and any export (the window is closing)."""
        self.preview.stop()
        if self.exporting is not None:
            self.exporting.cancel()
