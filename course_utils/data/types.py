"""The containers the loaders return: one dataclass per kind of data set.

They hold arrays and their labels only — no file handling — so the loaders
(:mod:`course_utils.data.loaders`) and the generated stand-ins
(:mod:`course_utils.data.fallback`) build the same objects without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The spoken words of the digits 0–9, in label order (FSDD's vocabulary; eSpeak NG says them in the
#: stand-in, PocketSphinx's digit grammar recognises them).
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass
class SpokenDigits:
    """Isolated spoken digits.

    Attributes
    ----------
    waveforms : list of np.ndarray
        One float32 mono waveform per clip, in [-1, 1], at ``sample_rate`` Hz;
        lengths differ.
    labels : np.ndarray, int64, shape (n,)
        The digit, 0–9.
    speakers : np.ndarray of str, shape (n,)
        Speaker id of each clip (for speaker-independent splits).
    files : list of str
        Source file of each clip (a description for generated clips).
    sample_rate : int
        Hz.
    origin : str
        ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    waveforms: list
    labels: np.ndarray
    speakers: np.ndarray
    files: list
    sample_rate: int
    origin: str
    label_names: list = field(default_factory=lambda: [str(d) for d in range(10)])

    def __len__(self) -> int:
        return len(self.waveforms)

    def subset(self, index) -> "SpokenDigits":
        """Return the clips at ``index`` (an integer array or boolean mask)."""
        index = np.arange(len(self))[index]
        return SpokenDigits([self.waveforms[i] for i in index], self.labels[index], self.speakers[index],
                            [self.files[i] for i in index], self.sample_rate, self.origin, self.label_names)


@dataclass
class PhotoDomains:
    """Photos of several domains, resized and centre-cropped to one size.

    Attributes
    ----------
    images : np.ndarray, uint8, shape (n, size, size, 3)
        RGB pixels.
    labels : np.ndarray, int64, shape (n,)
        Index into ``class_names``.
    class_names : list of str
        Domain names, e.g. ``["horse", "zebra", "summer", "winter"]``.
    splits : np.ndarray of str, shape (n,)
        ``"train"`` or ``"test"`` — the official folders (``trainA``, ``testA``…).
        A subset without test folders has only ``"train"``.
    files : list of str
        Source file of each image (a real file also for the stand-in: see
        :func:`course_utils.data.loaders.locate_photo_set`).
    origin : dict
        Data set name -> ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list
    splits: np.ndarray
    files: list
    origin: dict

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class ArcticSpeech:
    """Read sentences of CMU ARCTIC, parallel across speakers.

    Attributes
    ----------
    ids : list of str
        Utterance ids (``"arctic_a0001"``…) that every requested speaker has, sorted.
    texts : list of str
        The prompt of each id, as written in ``etc/txt.done.data``.
    waveforms : dict of str -> list of np.ndarray
        Speaker (``"bdl"``, ``"slt"``…) → one float32 mono waveform per id, in [-1, 1],
        at ``sample_rate`` Hz, with its leading and trailing silence kept.
    files : dict of str -> list of str
        Speaker → source file of each waveform.
    sample_rate : int
        Hz (ARCTIC is recorded at 16000 Hz).
    origin : str
        ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    ids: list
    texts: list
    waveforms: dict
    files: dict
    sample_rate: int
    origin: str

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, index) -> "ArcticSpeech":
        """Return the utterances at ``index`` (an integer array, slice or boolean mask)."""
        index = np.arange(len(self))[index]
        pick = lambda seq: [seq[i] for i in index]  # noqa: E731
        return ArcticSpeech(pick(self.ids), pick(self.texts), {k: pick(v) for k, v in self.waveforms.items()},
                            {k: pick(v) for k, v in self.files.items()}, self.sample_rate, self.origin)


@dataclass
class Faces:
    """Face photographs with identity labels.

    Attributes
    ----------
    images : np.ndarray, uint8, shape (n, size, size, channels)
        Pixels; 3 channels (RGB) for LFW, 1 (grey) for Olivetti.
    labels : np.ndarray, int64, shape (n,)
        Index into ``class_names``.
    class_names : list of str
        Person names (LFW) or subject ids (Olivetti, ``"s01"``…).
    files : list of str
        Source of each image.
    origin : str
        ``"mirror"``, ``"cache"`` or ``"download"``.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list
    files: list
    origin: str

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class ImageSet:
    """Full-size test photographs (sizes differ).

    Attributes
    ----------
    images : list of np.ndarray, uint8, shape (height, width, 3)
    names : list of str
        File stems (``"kodim01"``).
    files : list of str
    origin : str
        ``"mirror"``, ``"cache"``, ``"download"`` or ``"fallback"``.
    """

    images: list
    names: list
    files: list
    origin: str

    def __len__(self) -> int:
        return len(self.images)
