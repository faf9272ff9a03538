"""Texture features of photos — the classical answer to "horse or zebra?".

A colour histogram (:func:`course_utils.processing.colour_histograms`) cannot see a stripe. Texture
features can: they describe how much oriented structure a photo has at each scale, and of which kind.
This module computes three classic kinds from the grey-level photo and joins them into one vector:

* **Gabor energy statistics** — the photo filtered by a bank of log-Gabor filters (5 scales × 8
  orientations, built in the frequency domain), and the mean, spread and 90th percentile of each
  filter's energy, an orientation profile rolled so its strongest orientation comes first (rotation
  invariant), and how dominant one orientation is per pixel (stripes: very; grass: not).
* **Textons** — a bag of visual words: the log Gabor energies of every 8×8-pixel block, rotation
  normalised, are assigned to one of ``n_textons`` cluster centres learnt by k-means on the training
  photos; the feature is the share of blocks per texton.
* **Local binary patterns** — histograms of rotation-invariant "uniform" LBP codes (scikit-image) at
  three radii and three resolutions.

:class:`TextureFeatures` is a scikit-learn transformer (``fit`` learns the textons), and
:class:`TextureClassifier` puts logistic regression on top, its regularisation chosen by
cross-validation on the training photos, averaged over a few texton vocabularies that share one
filtering pass (:func:`describe_photos`). The features need the photos at their native resolution
(256 pixels for the CycleGAN sets): at 64 pixels a zebra's stripes are gone.

References
----------
* Log-Gabor filters: Field 1987, "Relations between the statistics of natural images and the response
  properties of cortical cells"; Gabor energy statistics as texture features: Manjunath & Ma 1996,
  "Texture features for browsing and retrieval of image data".
* Textons: Leung & Malik 2001, "Representing and recognizing the visual appearance of materials using
  three-dimensional textons"; texton histograms of filter responses: Varma & Zisserman 2005.
* LBP: Ojala, Pietikäinen & Mäenpää 2002, "Multiresolution gray-scale and rotation invariant texture
  classification with local binary patterns".
* Averaging models trained with different randomness: Breiman 1996, "Bagging predictors".
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin

from .images import check_rgb

#: The log-Gabor bank: scales (centre frequencies 0.25, 0.125, … cycles/pixel) × orientations.
GABOR_SCALES, GABOR_ORIENTATIONS = 5, 8
#: Uniform LBP at (points, radius in pixels), each at full, 1/2 and 1/4 resolution.
LBP_SETTINGS = ((8, 1), (16, 2), (24, 3))


def log_gabor_bank(side: int, scales: int = GABOR_SCALES, orientations: int = GABOR_ORIENTATIONS,
                   bandwidth: float = 0.65) -> np.ndarray:
    """A bank of one-sided log-Gabor filters, as frequency responses of a ``side × side`` image.

    Scale ``s`` is centred on ``0.25 / 2**s`` cycles per pixel; orientation ``k`` on ``k·π/orientations``.
    The filters are one-sided (zero for negative frequencies of their orientation), so the magnitude
    of a filtered image is the local energy (the envelope) of that scale and orientation.

    Parameters
    ----------
    side : int
        Image side in pixels (the photos are square).
    scales, orientations : int
    bandwidth : float
        Radial bandwidth as the ratio σ/f₀ of the log-Gaussian (0.65 ≈ two octaves, Field 1987).

    Returns
    -------
    np.ndarray, float32, shape (scales, orientations, side, side)
        Frequency responses in ``numpy.fft.fft2`` order; zero at DC.
    """
    fy, fx = np.meshgrid(np.fft.fftfreq(side), np.fft.fftfreq(side), indexing="ij")
    radius = np.hypot(fx, fy)
    radius[0, 0] = 1.0  # avoid log(0); DC is set to zero below
    angle = np.arctan2(fy, fx)
    bank = np.empty((scales, orientations, side, side), np.float32)
    for s in range(scales):
        radial = np.exp(-np.log(radius / (0.25 / 2 ** s)) ** 2 / (2 * np.log(bandwidth) ** 2))
        radial[0, 0] = 0.0
        for k in range(orientations):
            offset = np.angle(np.exp(1j * (angle - k * np.pi / orientations)))  # wrapped to (-π, π]
            bank[s, k] = radial * np.exp(-offset ** 2 / (2 * (np.pi / orientations / 1.2) ** 2))
    return bank


def gabor_energy(gray: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Local energy of a grey-level image in every filter of a log-Gabor bank.

    Parameters
    ----------
    gray : np.ndarray, float, shape (side, side)
        Grey levels in [0, 1].
    bank : np.ndarray, shape (scales, orientations, side, side)
        From :func:`log_gabor_bank` of the same side.

    Returns
    -------
    np.ndarray, float32, shape (scales, orientations, side, side)
        ``|IFFT(FFT(gray − mean) · filter)|`` per filter.

    Raises
    ------
    ValueError
        ``gray`` not 2-D or not the bank's size.
    """
    import scipy.fft

    if np.ndim(gray) != 2 or np.shape(gray) != bank.shape[2:]:
        raise ValueError(f"gabor_energy: gray must be a {bank.shape[2]}×{bank.shape[3]} image for this bank, "
                         f"got shape {np.shape(gray)}")
    spectrum = scipy.fft.fft2(np.asarray(gray, np.float32) - np.mean(gray))
    return np.abs(scipy.fft.ifft2(spectrum[None, None] * bank, workers=-1)).astype(np.float32)


def orientation_dominance(energy: np.ndarray) -> np.ndarray:
    """How much one orientation dominates each pixel's Gabor energy, per scale: stripes near 1, grass low.

    Parameters
    ----------
    energy : np.ndarray, shape (scales, orientations, ...)
        From :func:`gabor_energy` (any trailing pixel shape).

    Returns
    -------
    np.ndarray, same dtype, shape (scales, ...)
        The largest energy over orientations divided by their sum (+10⁻⁶), in [1/orientations, 1).
    """
    return energy.max(axis=1) / (energy.sum(axis=1) + 1e-6)


def gabor_statistics(energy: np.ndarray) -> np.ndarray:
    """Pooled Gabor energy statistics of one image (Manjunath & Ma 1996, extended).

    Parameters
    ----------
    energy : np.ndarray, shape (scales, orientations, height, width)
        From :func:`gabor_energy`.

    Returns
    -------
    np.ndarray, float64, shape (scales · (3·orientations + orientations + 4 + 5 + 1),)
        Per filter: mean, standard deviation and 90th percentile of the energy; per scale: the mean
        energies rolled so the strongest orientation comes first, quartiles and 90th percentile of the
        per-pixel :func:`orientation_dominance`, 10/25/50/75/90th
        percentiles of the per-pixel largest energy, and the log of its mean. 210 values for 5 × 8.
    """
    scales, orientations = energy.shape[:2]
    e = energy.reshape(scales, orientations, -1)
    mean = e.mean(axis=-1)
    rotated = np.stack([np.roll(mean[s], -np.argmax(mean[s])) for s in range(scales)])
    strongest = e.max(axis=1)  # (scales, pixels)
    dominance = orientation_dominance(e)
    return np.concatenate([mean.ravel(), e.std(axis=-1).ravel(), np.percentile(e, 90, axis=-1).ravel(),
                           rotated.ravel(), np.percentile(dominance, [25, 50, 75, 90], axis=-1).T.ravel(),
                           np.percentile(strongest, [10, 25, 50, 75, 90], axis=-1).T.ravel(),
                           np.log(strongest.mean(axis=-1) + 1e-6)]).astype(np.float64)


def texton_descriptors(energy: np.ndarray, block: int = 8) -> np.ndarray:
    """The local descriptors that textons cluster: log Gabor energy of each block, rotation normalised.

    Parameters
    ----------
    energy : np.ndarray, shape (scales, orientations, height, width)
        From :func:`gabor_energy`; height and width multiples of ``block``.
    block : int
        Block side in pixels.

    Returns
    -------
    np.ndarray, float32, shape (height·width / block², scales · orientations)
        Per block, ``log(mean energy + 1e-4)`` of every filter, the orientations of all scales rolled
        together so the block's strongest orientation (summed over scales) comes first.
    """
    scales, orientations, height, width = energy.shape
    if height % block or width % block:
        raise ValueError(f"texton_descriptors: image {height}×{width} is not a multiple of block={block}")
    e = energy.reshape(scales, orientations, height // block, block, width // block, block).mean(axis=(3, 5))
    e = e.reshape(scales, orientations, -1)
    order = (np.arange(orientations)[:, None] + e.sum(axis=0).argmax(axis=0)[None]) % orientations
    e = np.take_along_axis(e, np.broadcast_to(order, e.shape), axis=1)
    return np.log(e.reshape(scales * orientations, -1).T + 1e-4).astype(np.float32)


def lbp_histograms(gray: np.ndarray) -> np.ndarray:
    """Rotation-invariant uniform LBP histograms at three radii and three resolutions (Ojala et al. 2002).

    Parameters
    ----------
    gray : np.ndarray, float, shape (height, width)
        Grey levels in [0, 1].

    Returns
    -------
    np.ndarray, float64, shape (162,)
        For the image at full, 1/2 and 1/4 resolution (block means) and each ``(points, radius)`` of
        :data:`LBP_SETTINGS`, the share of pixels with each of the ``points + 2`` uniform codes.
    """
    from skimage.feature import local_binary_pattern
    from skimage.transform import downscale_local_mean

    gray = np.asarray(gray, np.float64)
    histograms = []
    for factor in (1, 2, 4):
        level = (downscale_local_mean(gray, (factor, factor)) * 255).astype(np.uint8)
        for points, radius in LBP_SETTINGS:
            codes = local_binary_pattern(level, points, radius, method="uniform").astype(np.int64)
            histograms.append(np.bincount(codes.ravel(), minlength=points + 2) / codes.size)
    return np.concatenate(histograms)


class PhotoDescriptors(NamedTuple):
    """What one filtering pass over a batch of photos gives (:func:`describe_photos`)."""

    side: int
    """Photo side in pixels."""
    local: np.ndarray
    """float32 ``(n, blocks, scales · orientations)``: :func:`texton_descriptors` of every photo."""
    pooled: np.ndarray
    """float64 ``(n, 372)``: :func:`gabor_statistics` and square-rooted :func:`lbp_histograms` of every photo."""


def describe_photos(images: np.ndarray, progress: bool = True) -> PhotoDescriptors:
    """Filter every photo once with the log-Gabor bank and keep everything the texture features need.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, side, side, 3)
        Square RGB photos, ``side`` a multiple of 8.
    progress : bool
        A tqdm progress bar over the photos.

    Returns
    -------
    PhotoDescriptors
        ``side``, the texton descriptors of every block (``local``) and the pooled statistics (``pooled``).

    Raises
    ------
    ValueError
        Photos not square, or their side not a multiple of 8.
    course_utils.images.ImageError
        Not a uint8 batch of RGB photos.
    """
    from skimage.color import rgb2gray
    from tqdm.auto import tqdm

    images = check_rgb(images, "images", batch=True)
    side = images.shape[1]
    if images.shape[2] != side:
        raise ValueError(f"texture: expected square photos, got {side}×{images.shape[2]} (height×width)")
    bank = log_gabor_bank(side)
    local, pooled = [], []
    for image in tqdm(images, desc="texture features", disable=not progress, leave=False):
        gray = rgb2gray(image)
        energy = gabor_energy(gray, bank)
        local.append(texton_descriptors(energy))
        pooled.append(np.concatenate([gabor_statistics(energy), np.sqrt(lbp_histograms(gray))]))
    return PhotoDescriptors(side, np.stack(local), np.stack(pooled))


class TextureFeatures(TransformerMixin, BaseEstimator):
    """Photos → texture vector: square-rooted texton histogram, Gabor energy statistics, square-rooted LBP.

    ``fit`` learns the textons: k-means (scikit-learn's ``MiniBatchKMeans``) on standardised
    :func:`texton_descriptors` of ``samples_per_photo`` random blocks of each training photo.
    Histograms are square-rooted (the Hellinger map), which suits a linear classifier. The photos are
    filtered by :func:`describe_photos`; :meth:`fit_descriptors` and :meth:`transform_descriptors` start
    from its result, so several vocabularies can share one filtering pass (:class:`TextureClassifier`).

    Parameters
    ----------
    n_textons : int
        Number of k-means clusters (visual words).
    samples_per_photo : int
        Blocks per training photo given to k-means.
    seed : int
        Seeds the block sample and k-means.
    progress : bool
        A tqdm progress bar over the photos.

    Examples
    --------
    >>> features = TextureFeatures(n_textons=256, seed=0).fit(train_photos)  # doctest: +SKIP
    >>> features.transform(test_photos).shape  # doctest: +SKIP
    (280, 628)
    """

    def __init__(self, n_textons: int = 256, samples_per_photo: int = 100, seed: int = 0, progress: bool = True):
        self.n_textons = n_textons
        self.samples_per_photo = samples_per_photo
        self.seed = seed
        self.progress = progress

    def _histograms(self, local):
        words = self.kmeans_.predict(((local - self.mean_) / self.scale_).reshape(-1, local.shape[-1]))
        words = words.reshape(len(local), -1)
        return np.sqrt(np.stack([np.bincount(w, minlength=self.n_textons) for w in words]) / words.shape[1])

    def fit_descriptors(self, described: PhotoDescriptors) -> np.ndarray:
        """Learn the textons from :func:`describe_photos` of the training photos; return their features.

        Parameters
        ----------
        described : PhotoDescriptors

        Returns
        -------
        np.ndarray, float64, shape (n, n_textons + 372)

        Raises
        ------
        ValueError
            Fewer sampled blocks than ``n_textons``.
        """
        from sklearn.cluster import MiniBatchKMeans

        local = described.local
        flat = local.reshape(-1, local.shape[-1])
        rng = np.random.default_rng(self.seed)
        picks = np.stack([rng.choice(local.shape[1], min(self.samples_per_photo, local.shape[1]), replace=False)
                          for _ in range(len(local))])
        if picks.size < self.n_textons:
            raise ValueError(f"TextureFeatures: {picks.size} blocks sampled for {self.n_textons} textons; "
                             "give more photos or fewer n_textons")
        self.side_ = described.side
        self.mean_, self.scale_ = flat.mean(axis=0), flat.std(axis=0) + 1e-6
        sample = (np.take_along_axis(local, picks[..., None], axis=1).reshape(-1, local.shape[-1])
                  - self.mean_) / self.scale_
        self.kmeans_ = MiniBatchKMeans(self.n_textons, random_state=self.seed, batch_size=4096, n_init=3).fit(sample)
        return np.hstack([self._histograms(local), described.pooled])

    def transform_descriptors(self, described: PhotoDescriptors) -> np.ndarray:
        """Texture features from :func:`describe_photos` of photos of the training size.

        Parameters
        ----------
        described : PhotoDescriptors

        Returns
        -------
        np.ndarray, float64, shape (n, n_textons + 372)

        Raises
        ------
        ValueError
            Photos of another size than the training photos.
        sklearn.exceptions.NotFittedError
            Called before fitting.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "kmeans_")
        self.check_side(described.side)
        return np.hstack([self._histograms(described.local), described.pooled])

    def check_side(self, side: int):
        """Check a photo size against the training photos'.

        Parameters
        ----------
        side : int
            Photo side in pixels.

        Raises
        ------
        ValueError
            ``side`` is not the side of the photos the textons were learnt on.
        """
        if side != self.side_:
            raise ValueError(f"TextureFeatures: the textons were learnt on {self.side_}-pixel photos, got {side}-pixel "
                             "photos; resize them first (course_utils.images.resize_photos)")

    def fit_transform(self, images, y=None):
        """Learn the textons from ``images`` and return their features, filtering each photo once.

        Parameters
        ----------
        images : np.ndarray, uint8, shape (n, side, side, 3)
            Training photos; ``side`` a multiple of 8.
        y : ignored

        Returns
        -------
        np.ndarray, float64, shape (n, n_textons + 372)

        Raises
        ------
        ValueError
            Photos not square, or fewer sampled blocks than ``n_textons``.
        course_utils.images.ImageError
            Not a uint8 batch of RGB photos.
        """
        return self.fit_descriptors(describe_photos(images, self.progress))

    def fit(self, images, y=None):
        """Learn the textons (see :meth:`fit_transform`); returns ``self``."""
        self.fit_transform(images)
        return self

    def transform(self, images):
        """Texture features of photos of the training photos' size.

        Parameters
        ----------
        images : np.ndarray, uint8, shape (n, side, side, 3)

        Returns
        -------
        np.ndarray, float64, shape (n, n_textons + 372)

        Raises
        ------
        ValueError
            Photos not square, or of another size than the training photos.
        course_utils.images.ImageError
            Not a uint8 batch of RGB photos.
        sklearn.exceptions.NotFittedError
            Called before :meth:`fit`.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "kmeans_")
        return self.transform_descriptors(describe_photos(_checked_side(images, self), self.progress))


def _checked_side(images, features: TextureFeatures) -> np.ndarray:
    """``images`` as a checked uint8 RGB batch of the training side (height), checked before any filtering."""
    images = check_rgb(images, "images", batch=True)
    features.check_side(images.shape[1])
    return images  # describe_photos checks that they are square


class TextureClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on :class:`TextureFeatures`, averaged over several texton vocabularies.

    The photos are filtered once (:func:`describe_photos`); each of ``n_vocabularies`` members learns
    its own textons (k-means seeded ``seed``, ``seed + 1``, …) and its own logistic regression, whose
    ``C`` is picked from 11 values in 10⁻⁴…10 by stratified 5-fold cross-validation on the training
    photos only (scikit-learn's ``GridSearchCV``). :meth:`predict_proba` averages the members'
    probabilities: k-means lands in a different local optimum for every seed, and averaging makes
    the answer depend less on which one (bagging, Breiman 1996). Each added vocabulary costs a
    k-means and a cross-validation, not another filtering pass.

    Parameters
    ----------
    n_textons : int
        Textons (k-means clusters) per vocabulary.
    n_vocabularies : int
        Members (≥ 1).
    seed : int
        Member ``v`` uses ``seed + v`` for its block sample, its k-means and its cross-validation split.
    progress : bool
        A tqdm progress bar over the photos.

    Attributes
    ----------
    members_ : list of (TextureFeatures, sklearn.pipeline.Pipeline)
        Per vocabulary: the fitted features and ``StandardScaler → LogisticRegression``.
    classes_ : np.ndarray, int64
        ``0 … n_classes − 1``.

    Examples
    --------
    >>> model = TextureClassifier(seed=0).fit(train_photos, train_labels)  # doctest: +SKIP
    >>> model.predict_proba(test_photos).shape  # doctest: +SKIP
    (280, 4)
    """

    def __init__(self, n_textons: int = 256, n_vocabularies: int = 2, seed: int = 0, progress: bool = True):
        self.n_textons = n_textons
        self.n_vocabularies = n_vocabularies
        self.seed = seed
        self.progress = progress

    def fit(self, images: np.ndarray, labels: np.ndarray):
        """Filter the training photos once, then fit every member.

        Parameters
        ----------
        images : np.ndarray, uint8, shape (n, side, side, 3)
            Training photos at their native resolution (256 pixels for the CycleGAN sets).
        labels : np.ndarray, int, shape (n,)
            Classes 0, 1, …, at least 5 photos of every class.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            ``labels`` of another length than ``images``, a class with fewer than 5 photos,
            ``n_vocabularies`` < 1, photos not square or their side not a multiple of 8, or fewer
            sampled blocks than ``n_textons``.
        course_utils.images.ImageError
            Not a uint8 batch of RGB photos.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        labels = np.asarray(labels)
        if len(labels) != len(images):
            raise ValueError(f"labels: {len(labels)} labels for {len(images)} images")
        counts = np.bincount(labels) if len(labels) and labels.min() >= 0 else np.zeros(0, np.int64)
        if len(counts) < 2 or counts.min() < 5:
            raise ValueError(f"labels: expected classes 0, 1, … with at least 5 photos each, "
                             f"got counts {counts.tolist()}")
        if self.n_vocabularies < 1:
            raise ValueError(f"n_vocabularies must be at least 1, got {self.n_vocabularies}")
        described = describe_photos(images, self.progress)
        members = []
        for v in range(self.n_vocabularies):
            features = TextureFeatures(self.n_textons, seed=self.seed + v, progress=False)
            search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
                                  {"logisticregression__C": np.logspace(-4, 1, 11)},
                                  cv=StratifiedKFold(5, shuffle=True, random_state=self.seed + v))
            search.fit(features.fit_descriptors(described), labels)
            members.append((features, search.best_estimator_))
        self.members_, self.classes_ = members, np.arange(len(counts))  # only once every member is fitted
        return self

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Mean of the members' class probabilities.

        Parameters
        ----------
        images : np.ndarray, uint8, shape (n, side, side, 3)
            Photos of the training photos' size.

        Returns
        -------
        np.ndarray, float64, shape (n, n_classes)

        Raises
        ------
        ValueError
            Photos not square, or of another size than the training photos.
        course_utils.images.ImageError
            Not a uint8 batch of RGB photos.
        sklearn.exceptions.NotFittedError
            Called before :meth:`fit`.
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "members_")
        described = describe_photos(_checked_side(images, self.members_[0][0]), self.progress)
        return np.mean([model.predict_proba(features.transform_descriptors(described))
                        for features, model in self.members_], axis=0)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The most probable class of each photo.

        Parameters
        ----------
        images : np.ndarray, uint8, shape (n, side, side, 3)

        Returns
        -------
        np.ndarray, int64, shape (n,)
        """
        return self.classes_[np.argmax(self.predict_proba(images), axis=1)]
