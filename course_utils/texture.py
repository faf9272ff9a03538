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
:func:`train_texture_classifier` puts logistic regression on top, its regularisation chosen by
cross-validation on the training photos. The features need the photos at their native resolution
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
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

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


class TextureFeatures(TransformerMixin, BaseEstimator):
    """Photos → texture vector: square-rooted texton histogram, Gabor energy statistics, square-rooted LBP.

    ``fit`` learns the textons: k-means (scikit-learn's ``MiniBatchKMeans``) on standardised
    :func:`texton_descriptors` of ``samples_per_photo`` random blocks of each training photo.
    Histograms are square-rooted (the Hellinger map), which suits a linear classifier.

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

    def _describe(self, images):
        """Per photo: texton descriptors, Gabor statistics and LBP histograms (one filtering pass)."""
        from skimage.color import rgb2gray
        from tqdm.auto import tqdm

        images = check_rgb(images, "images", batch=True)
        side = images.shape[1]
        if images.shape[2] != side:
            raise ValueError(f"TextureFeatures: expected square photos, got {side}×{images.shape[2]} (height×width)")
        bank = log_gabor_bank(side)
        local, pooled = [], []
        for image in tqdm(images, desc="texture features", disable=not self.progress, leave=False):
            gray = rgb2gray(image)
            energy = gabor_energy(gray, bank)
            local.append(texton_descriptors(energy))
            pooled.append(np.concatenate([gabor_statistics(energy), np.sqrt(lbp_histograms(gray))]))
        return np.stack(local), np.stack(pooled)

    def _histograms(self, local):
        words = self.kmeans_.predict(((local - self.mean_) / self.scale_).reshape(-1, local.shape[-1]))
        words = words.reshape(len(local), -1)
        return np.sqrt(np.stack([np.bincount(w, minlength=self.n_textons) for w in words]) / words.shape[1])

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
        from sklearn.cluster import MiniBatchKMeans

        local, pooled = self._describe(images)
        self.side_ = np.shape(images)[1]
        flat = local.reshape(-1, local.shape[-1])
        self.mean_, self.scale_ = flat.mean(axis=0), flat.std(axis=0) + 1e-6
        rng = np.random.default_rng(self.seed)
        picks = np.stack([rng.choice(local.shape[1], min(self.samples_per_photo, local.shape[1]), replace=False)
                          for _ in range(len(local))])
        sample = (np.take_along_axis(local, picks[..., None], axis=1).reshape(-1, local.shape[-1])
                  - self.mean_) / self.scale_
        if len(sample) < self.n_textons:
            raise ValueError(f"TextureFeatures: {len(sample)} blocks sampled for {self.n_textons} textons; "
                             "give more photos or fewer n_textons")
        self.kmeans_ = MiniBatchKMeans(self.n_textons, random_state=self.seed, batch_size=4096, n_init=3).fit(sample)
        return np.hstack([self._histograms(local), pooled])

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
        images = check_rgb(images, "images", batch=True)
        if images.shape[1:3] != (self.side_, self.side_):
            raise ValueError(f"TextureFeatures: the textons were learnt on {self.side_}-pixel photos, got "
                             f"{images.shape[1]}×{images.shape[2]}; resize them first (course_utils.images.resize_photos)")
        local, pooled = self._describe(images)
        return np.hstack([self._histograms(local), pooled])


def train_texture_classifier(images: np.ndarray, labels: np.ndarray, n_textons: int = 256, seed: int = 0,
                             progress: bool = True):
    """Logistic regression on :class:`TextureFeatures`, regularisation chosen by 5-fold cross-validation.

    The features are computed once; ``C`` is picked from 11 values in 10⁻⁴…10 by stratified 5-fold
    cross-validation on the training photos only (scikit-learn's ``GridSearchCV``), then refit on all.

    Parameters
    ----------
    images : np.ndarray, uint8, shape (n, side, side, 3)
        Training photos at their native resolution (256 pixels for the CycleGAN sets).
    labels : np.ndarray, int, shape (n,)
        At least 5 photos of every class.
    n_textons : int
    seed : int
    progress : bool

    Returns
    -------
    sklearn.pipeline.Pipeline
        ``TextureFeatures → StandardScaler → LogisticRegression``, fitted; its ``predict_proba`` takes
        uint8 photos of the training size and returns ``(n, n_classes)`` probabilities.

    Raises
    ------
    ValueError
        ``labels`` of another length than ``images``, or a class with fewer than 5 photos.
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
        raise ValueError(f"labels: expected classes 0, 1, … with at least 5 photos each, got counts {counts.tolist()}")
    extractor = TextureFeatures(n_textons=n_textons, seed=seed, progress=progress)
    features = extractor.fit_transform(images)
    search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
                          {"logisticregression__C": np.logspace(-4, 1, 11)},
                          cv=StratifiedKFold(5, shuffle=True, random_state=seed)).fit(features, labels)
    return make_pipeline(extractor, search.best_estimator_)
