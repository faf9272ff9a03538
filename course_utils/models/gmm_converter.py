"""The classical voice converter: a joint-density Gaussian mixture model with maximum-likelihood parameter generation.

Paper: T. Toda, A. W. Black and K. Tokuda (2007), "Voice Conversion Based on Maximum-Likelihood Estimation of
Spectral Parameter Trajectory" (IEEE Trans. Audio, Speech and Language Processing 15(8)); the joint-density GMM
itself is A. Kain and M. W. Macon (1998), "Spectral voice conversion for text-to-speech synthesis" (ICASSP).

Each DTW-aligned pair of frames becomes one joint vector Z_t = [X_t; Y_t], where X_t = [x_t; Δx_t] are the source
speaker's static mel-cepstrum and its delta and Y_t the target's. A Gaussian mixture with full covariances is fitted
to the Z_t by EM (scikit-learn's ``GaussianMixture``). Each component m then holds a *linear* regression from source
to target: given X, Y is Gaussian with mean A_m X + b_m and covariance D_m (the conditional of a joint Gaussian), and
the component's posterior P(m | X) says how much to trust it. Two ways to convert a sequence:

* the **conditional mean**, frame by frame: Ŷ_t = Σ_m P(m | X_t) (A_m X_t + b_m) — the minimum mean-square-error
  estimate of Kain & Macon, whose frames ignore their neighbours and jump where the dominant component changes;
* **MLPG** (Toda et al., with their approximation by the sub-optimum mixture sequence m̂_t = argmax_m P(m | X_t)):
  the static trajectory y = [y_1 … y_T] whose statics *and deltas* W y are most likely under the per-frame
  Gaussians N(A_m̂ X_t + b_m̂, D_m̂). Setting the gradient of the log-likelihood to zero gives one sparse linear
  system, (Wᵀ D⁻¹ W) y = Wᵀ D⁻¹ E, whose solution is a smooth trajectory: the delta rows tie each frame to its
  neighbours.

The delta here is the one the course's features use (:func:`course_utils.voice_conversion.with_deltas`: librosa's
5-frame regression window, edges repeated), written as the matrix W of MLPG by :func:`delta_operator`. The pipeline
that builds the joint vectors from WORLD mel-cepstra, converts F0 and synthesises is in
:mod:`course_utils.voice_conversion` (:func:`~course_utils.voice_conversion.train_gmm_converter`); the neural
converter it is compared with is :mod:`course_utils.models.voice_conversion`.
"""
from __future__ import annotations

import numpy as np

#: Frames of the delta regression window (librosa's ``feature.delta(width=5)``, as ``with_deltas`` uses).
DELTA_WIDTH = 5


def delta_operator(n_frames: int, width: int = DELTA_WIDTH):
    """The delta as a sparse matrix: ``delta_operator(T) @ x`` equals ``librosa.feature.delta(x, width, axis=0,
    mode="nearest")`` for any ``x`` of shape (T, n_dims).

    The window is scipy's first-derivative Savitzky-Golay filter of polynomial order 1 (what librosa calls);
    frames beyond the edges repeat the first and last frame.

    Parameters
    ----------
    n_frames : int
        T, at least 1.
    width : int
        Odd window length, at least 3.

    Returns
    -------
    scipy.sparse.csr_matrix, float64, shape (n_frames, n_frames)

    Raises
    ------
    ValueError
        ``n_frames`` below 1, or ``width`` not an odd number ≥ 3.
    """
    import scipy.sparse as sp
    from scipy.signal import savgol_coeffs

    if n_frames < 1:
        raise ValueError(f"n_frames must be at least 1, got {n_frames}")
    if width < 3 or width % 2 == 0:
        raise ValueError(f"width must be an odd number ≥ 3, got {width}")
    half = width // 2
    window = savgol_coeffs(width, 1, deriv=1, use="dot")  # (-0.2, -0.1, 0, 0.1, 0.2) for width 5
    rows = np.repeat(np.arange(n_frames), width)
    cols = np.clip(rows + np.tile(np.arange(-half, half + 1), n_frames), 0, n_frames - 1)
    # entries that fall on the same (clipped) edge frame are summed by the constructor
    return sp.csr_matrix((np.tile(window, n_frames), (rows, cols)), shape=(n_frames, n_frames))


def mlpg(means: np.ndarray, precisions: np.ndarray, width: int = DELTA_WIDTH) -> np.ndarray:
    """Maximum-likelihood parameter generation: the static trajectory most likely under per-frame Gaussians
    on [static; delta].

    Solves (Wᵀ P W) y = Wᵀ P μ (Toda et al. 2007, with the sub-optimum mixture sequence), where W stacks each
    frame's static and delta rows (:func:`delta_operator`) and P is block-diagonal with one full precision matrix
    per frame (scipy's sparse LU solver).

    Parameters
    ----------
    means : np.ndarray, float, shape (n_frames, 2 · n_dims)
        Per-frame mean of [static; delta].
    precisions : np.ndarray, float, shape (n_frames, 2 · n_dims, 2 · n_dims) or (n_frames, 2 · n_dims)
        Per-frame inverse covariance of [static; delta], symmetric positive definite; or only its diagonal
        (independent dimensions, e.g. a regression's error variances), which needs 2 · n_dims times less memory.
    width : int
        Delta window of the features (:func:`delta_operator`).

    Returns
    -------
    np.ndarray, float64, shape (n_frames, n_dims)
        The static trajectory.

    Raises
    ------
    ValueError
        ``means`` not 2-D with an even number of columns, or ``precisions`` of neither shape.
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    means = np.asarray(means, dtype=np.float64)
    precisions = np.asarray(precisions, dtype=np.float64)
    if means.ndim != 2 or means.shape[1] % 2 or means.shape[0] < 1:
        raise ValueError(f"means must have shape (n_frames, 2 · n_dims), got {means.shape}")
    n_frames, n_dims = means.shape[0], means.shape[1] // 2
    if precisions.shape not in ((n_frames, 2 * n_dims, 2 * n_dims), (n_frames, 2 * n_dims)):
        raise ValueError(f"precisions must have shape {(n_frames, 2 * n_dims, 2 * n_dims)} or "
                         f"{(n_frames, 2 * n_dims)}, got {precisions.shape}")
    eye, zero = sp.identity(n_dims), sp.csr_matrix((n_dims, n_dims))
    # rows of frame t: its n_dims statics, then its n_dims deltas (the layout of `means`)
    w = (sp.kron(sp.identity(n_frames), sp.vstack([eye, zero]))
         + sp.kron(delta_operator(n_frames, width), sp.vstack([zero, eye])))
    if precisions.ndim == 2:  # diagonal
        p = sp.diags(precisions.ravel())
    else:  # block diagonal
        p = sp.bsr_matrix((precisions, np.arange(n_frames), np.arange(n_frames + 1)))
    wt_p = (w.T @ p).tocsr()
    y = spsolve((wt_p @ w).tocsc(), wt_p @ means.ravel())
    return y.reshape(n_frames, n_dims)


class JointDensityGMM:
    """Joint-density GMM voice conversion on [static; delta] frames (Kain & Macon 1998; Toda et al. 2007).

    Parameters
    ----------
    n_components : int
        Gaussian components (notebook 03 uses 32 on a few hundred sentences, 4 in fast mode).
    max_iter : int
        EM iterations at most (scikit-learn's ``GaussianMixture``).
    reg_covar : float
        Added to every covariance diagonal (scikit-learn's default); keeps rarely used components invertible.
    seed : int
        Seed of the k-means initialisation.

    Attributes
    ----------
    gmm : sklearn.mixture.GaussianMixture
        Fitted on joint vectors [X; Y], full covariances.
    n_dims : int
        Static dimensions D; X and Y have 2 D (static and delta).
    n_pairs : int
        Aligned frame pairs the GMM was fitted on.
    fit_seconds : float
        Wall time of the EM fit.
    mean_x, cov_xx : np.ndarray, float64, shapes (n_components, 2 D) and (n_components, 2 D, 2 D)
        The marginal GMM of the source frames, which gives P(m | X).
    a, b : np.ndarray, float64, shapes (n_components, 2 D, 2 D) and (n_components, 2 D)
        Each component's regression E[Y | X, m] = a[m] @ X + b[m].
    conditional_precision : np.ndarray, float64, shape (n_components, 2 D, 2 D)
        D_m⁻¹, the inverse covariance of Y given X and m.

    Examples
    --------
    >>> model = JointDensityGMM(n_components=4).fit(x, y)  # x, y: (n_pairs, 2 D) aligned [static; delta]
    >>> statics = model.convert(x_utterance)                # (n_frames, D), MLPG
    """

    def __init__(self, n_components: int = 32, max_iter: int = 100, reg_covar: float = 1e-6, seed: int = 0):
        if n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}")
        self.n_components, self.max_iter, self.reg_covar, self.seed = n_components, max_iter, reg_covar, seed
        self.gmm = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> "JointDensityGMM":
        """Fit the joint GMM by EM and derive each component's regression.

        Parameters
        ----------
        x, y : np.ndarray, float, shape (n_pairs, 2 · n_dims)
            Aligned source and target frames, [static; delta] each.

        Returns
        -------
        JointDensityGMM
            ``self``.

        Raises
        ------
        ValueError
            ``x`` and ``y`` differ in shape, are not 2-D with an even number of columns, or hold fewer pairs than
            10 per component, or non-finite values.
        """
        import time

        from sklearn.mixture import GaussianMixture

        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.ndim != 2 or x.shape != y.shape or x.shape[1] % 2:
            raise ValueError(f"x and y must have the same shape (n_pairs, 2 · n_dims), got {x.shape} and {y.shape}")
        if len(x) < 10 * self.n_components:
            raise ValueError(f"x holds {len(x)} pairs: too few for {self.n_components} components (10 per component)")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("x and y must be finite")
        start = time.perf_counter()
        self.gmm = GaussianMixture(self.n_components, covariance_type="full", max_iter=self.max_iter,
                                   reg_covar=self.reg_covar, random_state=self.seed).fit(np.concatenate([x, y], 1))
        self.fit_seconds = time.perf_counter() - start
        k = x.shape[1]
        self.n_dims, self.n_pairs = k // 2, len(x)
        cov = self.gmm.covariances_
        self.mean_x, mean_y = self.gmm.means_[:, :k], self.gmm.means_[:, k:]
        self.cov_xx = cov[:, :k, :k]
        # A_m = Σ_yx Σ_xx⁻¹, b_m = μ_y − A_m μ_x: the regression of component m
        self.a = np.transpose(np.linalg.solve(self.cov_xx, cov[:, :k, k:]), (0, 2, 1))
        self.b = mean_y - np.einsum("mij,mj->mi", self.a, self.mean_x)
        # D_m⁻¹ = (Σ_yy − Σ_yx Σ_xx⁻¹ Σ_xy)⁻¹ is the yy block of the joint precision matrix
        self.conditional_precision = self.gmm.precisions_[:, k:, k:]
        return self

    def _check(self, x) -> np.ndarray:
        if self.gmm is None:
            raise RuntimeError("fit the JointDensityGMM before converting")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 2 * self.n_dims or len(x) < 1:
            raise ValueError(f"x must have shape (n_frames, {2 * self.n_dims}), got {x.shape}")
        return x

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        """P(m | X_t): each component's responsibility for each source frame, from the marginal GMM of X.

        Parameters
        ----------
        x : np.ndarray, float, shape (n_frames, 2 · n_dims)
            Source [static; delta] frames.

        Returns
        -------
        np.ndarray, float64, shape (n_frames, n_components)
            Rows sum to 1.
        """
        from scipy.special import softmax
        from scipy.stats import multivariate_normal

        x = self._check(x)
        log_p = np.stack([multivariate_normal(mu, cov).logpdf(x).reshape(len(x))
                          for mu, cov in zip(self.mean_x, self.cov_xx)], axis=1)
        return softmax(np.log(self.gmm.weights_) + log_p, axis=1)

    def _component_means(self, x: np.ndarray) -> np.ndarray:
        """A_m X_t + b_m for every component: shape (n_components, n_frames, 2 · n_dims)."""
        return np.einsum("mij,tj->mti", self.a, x) + self.b[:, None, :]

    def conditional_mean(self, x: np.ndarray) -> np.ndarray:
        """Per-frame minimum mean-square-error conversion E[Y_t | X_t] (Kain & Macon 1998), no MLPG.

        Parameters
        ----------
        x : np.ndarray, float, shape (n_frames, 2 · n_dims)
            Source [static; delta] frames of one utterance.

        Returns
        -------
        np.ndarray, float64, shape (n_frames, 2 · n_dims)
            Expected target [static; delta]; the statics are ``[:, :n_dims]``.

        Raises
        ------
        ValueError
            ``x`` has the wrong shape.
        RuntimeError
            The model is not fitted.
        """
        x = self._check(x)
        return np.einsum("tm,mti->ti", self.posteriors(x), self._component_means(x))

    def convert(self, x: np.ndarray) -> np.ndarray:
        """Convert one utterance by MLPG with the sub-optimum mixture sequence (Toda et al. 2007).

        Parameters
        ----------
        x : np.ndarray, float, shape (n_frames, 2 · n_dims)
            Source [static; delta] frames of one utterance, in time order.

        Returns
        -------
        np.ndarray, float64, shape (n_frames, n_dims)
            Target static trajectory.

        Raises
        ------
        ValueError
            ``x`` has the wrong shape.
        RuntimeError
            The model is not fitted.
        """
        x = self._check(x)
        best = np.argmax(self.posteriors(x), axis=1)
        means = self._component_means(x)[best, np.arange(len(x))]
        return mlpg(means, self.conditional_precision[best])
