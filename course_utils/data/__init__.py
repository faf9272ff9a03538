"""The data layer: a registry of data sets, verified downloads, mirror and cache, the loaders.

Every data set the course uses has one entry in :data:`DATA_HUB`: its official URL(s), the
sha256 of the archive, the archive type, the layout it unpacks to, its licence and citation.
:func:`locate` finds a set's folder — the mirror ``$COURSE_DATA_DIR/<name>/`` first, then the
cache ``$COURSE_CACHE_DIR/<name>/``, then a verified, atomic download (skipped when
``COURSE_OFFLINE=1``) — and the loaders (:func:`load_fsdd`, :func:`load_photo_domains`,
:func:`load_arctic`, :func:`load_olivetti`, :func:`load_lfw_people`, :func:`load_kodak`) read it.
They fall back to an embedded, generated stand-in only when none of these has the real set,
with a loud notice (:func:`locate_photo_set` does the same for a photo set's folder). Where no
honest stand-in exists (faces of real people: LFW, Olivetti) the loader raises
:class:`DataUnavailableError`, which Jupyter shows as its one message (where to get the set,
its checksum, ``COURSE_DATA_DIR``), not as a traceback.

Submodules, each importing only those above it (no cycle):

* :mod:`course_utils.data.registry` — :class:`DataSet`, :data:`DATA_HUB`, :func:`register` and the
  registered data sets (URLs, checksums, licences, citations)
* :mod:`course_utils.data.fetch` — the errors, :func:`mirror_dir`, :func:`cache_dir`, :func:`offline`,
  :func:`locate`, the download (:func:`course_utils.data.fetch.fetch`), :func:`describe`,
  :func:`fallback_notice`
* :mod:`course_utils.data.types` — the containers the loaders return (:class:`SpokenDigits`,
  :class:`PhotoDomains`, :class:`ArcticSpeech`, :class:`Faces`, :class:`ImageSet`) and :data:`DIGIT_WORDS`
* :mod:`course_utils.data.fallback` — the generated stand-ins (eSpeak NG voices, bundled photos);
  imports the types, never the loaders
* :mod:`course_utils.data.loaders` — the loaders and the file-name patterns they discover
* :mod:`course_utils.data.skip` — the notebooks' ``%%needs <data set>`` cell magic
  (``%load_ext course_utils.data.skip``): with ``COURSE_SKIP_MISSING=1`` the cells that need a
  missing face data set are skipped instead of stopping the notebook

Everything public is importable from here (``from course_utils import data``; ``data.load_fsdd()``),
except the download function, which shares its submodule's name: call ``data.locate(name)``
(it downloads when needed) or ``data.fetch.fetch(name)``.
Nothing here imports Keras or TensorFlow.
"""
from . import fallback
from .fetch import (ChecksumError, DataError, DataUnavailableError, FallbackDataWarning, Located, cache_dir,
                    describe, fallback_notice, locate, mirror_dir, offline, validate_layout)
from .loaders import (ARCTIC_PROMPT, FSDD_PATTERN, IMAGE_SUFFIXES, PHOTO_DOMAINS, load_arctic, load_fsdd,
                      load_kodak, load_lfw_people, load_olivetti, load_photo_domains, locate_photo_set,
                      read_arctic_prompts)
from .registry import DATA_HUB, DataSet, register
from .types import DIGIT_WORDS, ArcticSpeech, Faces, ImageSet, PhotoDomains, SpokenDigits

__all__ = [
    "ARCTIC_PROMPT", "ArcticSpeech", "ChecksumError", "DATA_HUB", "DIGIT_WORDS", "DataError", "DataSet",
    "DataUnavailableError", "FSDD_PATTERN", "Faces", "FallbackDataWarning", "IMAGE_SUFFIXES", "ImageSet",
    "Located", "PHOTO_DOMAINS", "PhotoDomains", "SpokenDigits", "cache_dir", "describe", "fallback",
    "fallback_notice", "load_arctic", "load_fsdd", "load_kodak", "load_lfw_people", "load_olivetti",
    "load_photo_domains", "locate", "locate_photo_set", "mirror_dir", "offline", "read_arctic_prompts", "register",
    "validate_layout",
]
