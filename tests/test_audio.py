"""Audio preprocessing: shapes, dtypes, rates, and clear errors for bad input."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from course_utils import audio
from conftest import tone, write_wav


def test_load_resamples_44k_stereo_to_mono_8k(tmp_path):
    left, right = tone(1.0, 44100, 300), tone(1.0, 44100, 300, amplitude=0.1)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), 44100)
    y = audio.load_audio(path, sample_rate=8000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 8000) <= 1
    assert 0.25 < np.abs(y).max() < 0.35  # mean of 0.5 and 0.1 amplitudes
    both = audio.load_audio(path, mono=False)
    assert both.shape == (2, 44100)


def test_load_flac_keeps_rate(tmp_path):
    path = tmp_path / "clip.flac"
    sf.write(path, tone(0.25, 16000), 16000)
    assert audio.load_audio(path).shape == (4000,)


@pytest.mark.parametrize("content, message", [
    (b"this is not audio at all" * 10, "not a readable audio file"),
    (b"", "not a readable audio file"),
])
def test_corrupt_file_error_names_the_file(tmp_path, content, message):
    path = tmp_path / "broken.wav"
    path.write_bytes(content)
    with pytest.raises(audio.AudioError, match=rf"broken\.wav.*{message}"):
        audio.load_audio(path)


def test_truncated_wav_is_detected(tmp_path):
    path = write_wav(tmp_path / "cut.wav", tone(1.0), 8000)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(audio.AudioError, match=r"cut\.wav: truncated WAV"):
        audio.load_audio(path)


def test_empty_and_missing_files(tmp_path):
    path = write_wav(tmp_path / "empty.wav", np.zeros(0, np.float32), 8000)
    with pytest.raises(audio.AudioError, match="no samples"):
        audio.load_audio(path)
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        audio.load_audio(tmp_path / "nope.wav")


def test_trim_silence_and_silent_input():
    y = np.concatenate([np.zeros(4000, np.float32), tone(0.5), np.zeros(4000, np.float32)])
    trimmed = audio.trim_silence(y)
    assert 3800 < len(trimmed) < 4600
    with pytest.raises(audio.AudioError, match="silent"):
        audio.trim_silence(np.zeros(8000, np.float32))
    with pytest.raises(audio.AudioError, match="silence"):
        audio.peak_normalize(np.zeros(10, np.float32))


def test_pad_or_crop():
    assert audio.pad_or_crop(np.ones(10), 16).tolist() == [1.0] * 10 + [0.0] * 6
    assert audio.pad_or_crop(np.arange(10.0), 4).tolist() == [3.0, 4.0, 5.0, 6.0]


@pytest.mark.filterwarnings("error::UserWarning")  # librosa: "n_fft=256 is too large for input signal of length=80"
def test_a_clip_shorter_than_the_fft_window_gives_librosas_frames_without_its_warning():
    import warnings

    import librosa

    for n in (1, 80, 255, 256, 300):
        y = np.random.default_rng(n).normal(0, 0.1, n).astype(np.float32)
        S = audio.log_mel_spectrogram(y, 8000, n_fft=256, hop_length=80, n_mels=40)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            mel = librosa.feature.melspectrogram(y=y, sr=8000, n_fft=256, hop_length=80, n_mels=40, fmin=20.0)
        expected = librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
        assert S.shape == expected.shape == (40, 1 + n // 80)
        assert np.allclose(S, expected, atol=1e-4), n


def test_feature_shapes_follow_hop_length():
    y = tone(1.0, 8000)
    S = audio.log_mel_spectrogram(y, 8000, n_fft=256, hop_length=80, n_mels=40)
    assert S.shape == (40, 1 + 8000 // 80) and S.dtype == np.float32
    assert S.min() >= S.max() - 80.0 - 1e-3  # dB re 1.0, floored 80 dB below the peak
    M = audio.mfcc(y, 8000, n_mfcc=13, deltas=True)
    assert M.shape == (39, 101)
    short = audio.mfcc(tone(0.01, 8000), 8000)  # 2 frames: deltas are zero, not an error
    assert short.shape == (39, 2) and not short[13:].any()
    N = audio.normalize_features(M, axis=1)
    assert np.allclose(N.mean(axis=1), 0, atol=1e-4)
    assert audio.ms_to_samples(10, 8000) == 80 and audio.ms_to_samples(25, 16000) == 400
