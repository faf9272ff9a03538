"""Metrics, written once and used by every notebook: image quality (:mod:`.image`) and speech (:mod:`.speech`).

``from course_utils import metrics`` then ``metrics.psnr(...)``, ``metrics.error_rates(...)``,
``metrics.stoi(...)``; nothing here imports Keras at import time.
"""
from .image import bd_rate, common_range, interpolate_at_rate, ms_ssim, psnr
from .speech import (POCKETSPHINX_RATE, ErrorRates, dtw_path, error_rates, f0_rmse, log_spectral_distance,
                     mcd_frames, mel_cepstral_distortion, normalize_text, recognizer_cer, stoi,
                     transcribe_pocketsphinx, transcribe_pocketsphinx_batch, voiced_frames)

__all__ = ["bd_rate", "common_range", "interpolate_at_rate", "ms_ssim", "psnr", "POCKETSPHINX_RATE", "ErrorRates",
           "dtw_path", "error_rates", "f0_rmse", "log_spectral_distance", "mcd_frames", "mel_cepstral_distortion",
           "normalize_text", "recognizer_cer", "stoi", "transcribe_pocketsphinx",
           "transcribe_pocketsphinx_batch", "voiced_frames"]
