"""The data registry: one :class:`DataSet` entry per data set the course uses.

Each entry in :data:`DATA_HUB` holds the official URL(s), the archive's sha256 (or, where the
publisher gives none, the md5 others have verified, or one checksum per file), the archive type,
the layout it unpacks to, its licence and its citation — the idea of d2l's
``DATA_HUB[name] = (url, hash)``. Finding, downloading and verifying a set is
:mod:`course_utils.data.fetch`'s job; this module only declares what exists.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataSet:
    """One registry entry.

    Attributes
    ----------
    name : str
        Registry key; also the folder name in mirrors and in the cache.
    urls : tuple of str
        Official download URL(s), tried in order.
    sha256 : str
        Hex sha256 of the archive.
    archive : {"zip", "tar.gz", "tar.bz2", "tgz"}
        Archive type.
    archive_root : str
        Folder inside the archive that holds the layout (``""`` if the
        archive unpacks the layout directly).
    layout : tuple of str
        Glob patterns, relative to the data set folder, that must each match
        at least one file (e.g. ``"recordings/*.wav"``).
    licence, citation, homepage : str
        Shown by :func:`~course_utils.data.fetch.describe`.
    size_bytes : int, optional
        Archive size, for the progress bar and the user's information.
    md5 : str, optional
        Used only where the publisher gives no sha256 and no verified sha256 is known
        (then ``sha256`` is None and :attr:`hash_note` names the md5's source).
    folder : str, optional
        Folder name in mirrors and in the cache when several registry entries share one
        folder (CMU ARCTIC: one archive per speaker, all under ``cmu_arctic/``). The archive's
        ``archive_root`` is then kept as a subfolder: ``<cache>/<folder>/<archive_root>``.
    files : tuple of (str, str or None)
        For ``archive="files"`` (no archive: one download per file, e.g. Kodak's PNGs):
        each file name and its sha256 where one is known. A URL ending in ``/`` is a folder
        the name is appended to; otherwise the URL is the (single) file itself.
    hash_note : str
        Where the checksum comes from (shown by :func:`~course_utils.data.fetch.describe`).
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None
    archive: str
    archive_root: str
    layout: tuple[str, ...]
    licence: str
    citation: str
    homepage: str
    size_bytes: int | None = None
    md5: str | None = None
    folder: str = ""
    files: tuple = ()
    hash_note: str = ""

    @property
    def directory(self) -> str:
        """Folder name of the data set in mirrors and in the cache."""
        return self.folder or self.name

    @property
    def known_hash(self) -> str | None:
        """The archive checksum in pooch's form (``"sha256:…"``, ``"md5:…"``)."""
        return f"sha256:{self.sha256}" if self.sha256 else (f"md5:{self.md5}" if self.md5 else None)


DATA_HUB: dict[str, DataSet] = {}


def register(dataset: DataSet) -> DataSet:
    """Add ``dataset`` to :data:`DATA_HUB` (later topics register their sets this way)."""
    DATA_HUB[dataset.name] = dataset
    return dataset


def lookup(name: str) -> DataSet:
    """Return the registry entry ``name``.

    Raises
    ------
    KeyError
        ``name`` is not registered (the message lists the registered names).
    """
    try:
        return DATA_HUB[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; registered: {sorted(DATA_HUB)}") from None


register(DataSet(
    name="fsdd",
    urls=("https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.9.tar.gz",),
    sha256="8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0",
    archive="tar.gz",
    archive_root="free-spoken-digit-dataset-1.0.9",
    layout=("recordings/*.wav",),
    licence="CC BY-SA 4.0",
    citation="Z. Jackson et al., Free Spoken Digit Dataset (FSDD), v1.0.9, 2018. doi:10.5281/zenodo.1342401",
    homepage="https://github.com/Jakobovski/free-spoken-digit-dataset",
    size_bytes=11_975_353,
))
_CYCLEGAN_CITATION = ("J.-Y. Zhu, T. Park, P. Isola, A. A. Efros, Unpaired Image-to-Image Translation using "
                      "Cycle-Consistent Adversarial Networks, ICCV 2017")
register(DataSet(
    name="horse2zebra",
    urls=("https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/horse2zebra.zip",
          "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/horse2zebra.zip"),
    sha256="a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1",
    archive="zip",
    archive_root="horse2zebra",
    layout=("trainA/*.jpg", "trainB/*.jpg"),
    licence="ImageNet-derived images, research use",
    citation=_CYCLEGAN_CITATION,
    homepage="https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
    size_bytes=116_867_962,
))
register(DataSet(
    name="summer2winter_yosemite",
    urls=("https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/summer2winter_yosemite.zip",
          "https://efrosgans.eecs.berkeley.edu/cyclegan/datasets/summer2winter_yosemite.zip"),
    sha256="167fe1726807a9d22bd106b4a6c0bd7953b688af924ac1bf967439c4961e49f9",
    archive="zip",
    archive_root="summer2winter_yosemite",
    layout=("trainA/*.jpg", "trainB/*.jpg"),
    licence="Flickr-derived images, research use",
    citation=_CYCLEGAN_CITATION,
    homepage="https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix",
    size_bytes=132_640_856,
))

_ARCTIC_CITATION = ("J. Kominek, A. W. Black, The CMU Arctic speech databases, 5th ISCA Speech Synthesis "
                    "Workshop, 2004")
for _speaker, _sha in {"bdl": "26b91aaf48b2799b2956792b4632c2f926cd0542f402b5452d5adecb60942904",
                       "slt": "7c173297916acf3cc7fcab2713be4c60b27312316765a90934651d367226b4ea"}.items():
    register(DataSet(
        name=f"cmu_arctic_{_speaker}",
        urls=(f"http://festvox.org/cmu_arctic/packed/cmu_us_{_speaker}_arctic.tar.bz2",
              f"http://www.festvox.org/cmu_arctic/packed/cmu_us_{_speaker}_arctic.tar.bz2"),
        sha256=_sha,
        archive="tar.bz2",
        archive_root=f"cmu_us_{_speaker}_arctic",
        layout=(f"cmu_us_{_speaker}_arctic/wav/arctic_*.wav", f"cmu_us_{_speaker}_arctic/etc/txt.done.data"),
        licence="CMU ARCTIC licence: free for any use, keep the copyright notice (COPYING)",
        citation=_ARCTIC_CITATION,
        homepage="http://festvox.org/cmu_arctic/",
        folder="cmu_arctic",
        hash_note="sha256 of the archive as verified by torchaudio's CMUARCTIC data set",
    ))
register(DataSet(
    name="lfw",
    urls=("http://vis-www.cs.umass.edu/lfw/lfw-deepfunneled.tgz",),
    sha256=None,
    md5="68331da3eb755a505a502b5aacb3c201",
    archive="tgz",
    archive_root="lfw-deepfunneled",
    layout=("lfw-deepfunneled/*/*.jpg",),
    licence="Labeled Faces in the Wild: research use",
    citation=("G. B. Huang, M. Ramesh, T. Berg, E. Learned-Miller, Labeled Faces in the Wild, UMass TR 07-49, "
              "2007; deep funneling: G. B. Huang, M. Mattar, H. Lee, E. Learned-Miller, NIPS 2012"),
    homepage="http://vis-www.cs.umass.edu/lfw/",
    folder="lfw",
    hash_note="md5 as verified by TFDS and torchvision (the LFW site publishes no sha256)",
))
register(DataSet(
    name="olivetti",
    urls=("https://ndownloader.figshare.com/files/5976027",),
    sha256="b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794",
    archive="files",
    archive_root="",
    layout=("olivettifaces.mat",),
    licence="credit AT&T Laboratories Cambridge",
    citation=("F. Samaria, A. Harter, Parameterisation of a stochastic model for human face identification, "
              "IEEE WACV 1994 (MAT file by S. Roweis)"),
    homepage="https://cam-orl.co.uk/facedatabase.html",
    files=(("olivettifaces.mat", "b612fb967f2dc77c9c62d3e1266e0c73d5fca46a4b8906c18e454d41af987794"),),
    hash_note="sha256 as verified by scikit-learn's fetch_olivetti_faces (the figshare copy of Roweis' file)",
))
#: sha256 of kodim01–08 as published (hashed from an unmodified classroom copy); the suite's
#: site publishes no checksums, so kodim09–24 are checked by decoding (PNG, 768×512 or 512×768).
_KODAK_SHA256 = {
    "kodim01.png": "6b4fbe6f3e8e0e20150d5b0c32248bf072e22b5989d415f96f796c5b7004a70f",
    "kodim02.png": "1788370471429d992750a09caf6702ac74e56962447de02520d4b161738c0369",
    "kodim03.png": "b9c800ee568f0b18c983817df08d9f7f24a7ddb3abfdc31bde9234c4fde83137",
    "kodim04.png": "0c60c62599ad33fd78b29c36013fbe4120946f6c327c0ef0ec6983297fb48d23",
    "kodim05.png": "ccf694ceb6bbf431e0009ed0d5573a8ff0915095b69ddfb527b91d8325897f5e",
    "kodim06.png": "f4212cc927d1d579c712843cf8320c7eccb571e5ea80456022ffe99d67e9cd5d",
    "kodim07.png": "7cdd6d63ae0a245f6f9d983d740e11c6808c2efc24f8351aad9b5f676c27b55a",
    "kodim08.png": "5a6a089bdb47605287c00d89ebf2a5312981eb998c94b5853d917c93a9066cdb",
}
register(DataSet(
    name="kodak",
    urls=("https://r0k.us/graphics/kodak/kodak/",),
    sha256=None,
    archive="files",
    archive_root="",
    layout=("kodim*.png",),
    licence="Kodak Lossless True Color Image Suite: free for research use",
    citation="Eastman Kodak, Kodak Lossless True Color Image Suite (PhotoCD PCD0992), 1999",
    homepage="https://r0k.us/graphics/kodak/",
    files=tuple((f"kodim{i:02d}.png", _KODAK_SHA256.get(f"kodim{i:02d}.png")) for i in range(1, 25)),
    hash_note="sha256 per file for kodim01–08; the others are verified by decoding",
))
