"""Bad input, one policy: every public entry point answers with a short message of the course's own, never a
raw traceback from a library — one table, each row asserting the exception type and a fragment of the message."""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import (audio, compression, cyclegan, data, digit_strings, face_swap, image_codec, images, metrics,
                          plots, processing, recognition, speech_codec, tacotron_tts, text, tts, voice_conversion)
from course_utils.audio import AudioError
from course_utils.bitstream import StreamError
from course_utils.images import ImageError
from course_utils.text import TextError


def _unsure(x, training=False):
    """A stand-in digit model: the same probabilities for any input (no training needed)."""
    return np.full((len(x), 10), 0.1, np.float32)


SPEECH = (0.5 * np.sin(np.arange(16000) * 0.3)).astype(np.float32)  # 1 s at 16 kHz
NAN = np.full(1600, np.nan, np.float32)
STEREO = np.zeros((2, 1600), np.float32)
INT16 = (SPEECH * 32767).astype(np.int16)
SILENT = np.zeros(16000, np.float32)
RGB = np.zeros((64, 64, 3), np.uint8)

CASES = [
    # the digit recognisers (notebooks 01 and 04)
    ("recognize: stereo", lambda: recognition.recognize(STEREO, 8000, _unsure), AudioError, "mono"),
    ("recognize: NaN", lambda: recognition.recognize(NAN, 8000, _unsure), AudioError, "NaN"),
    ("recognize: int16 samples", lambda: recognition.recognize(INT16, 16000, _unsure), AudioError, "32768"),
    ("recognize: empty", lambda: recognition.recognize(np.zeros(0, np.float32), 8000, _unsure), AudioError, "empty"),
    ("recognize: silence", lambda: recognition.recognize(SILENT, 16000, _unsure), AudioError, "silent"),
    ("recognize: rate 0", lambda: recognition.recognize(SPEECH, 0, _unsure), AudioError, "sample_rate"),
    ("recognize: rate below 8 kHz", lambda: recognition.recognize(SPEECH, 4000, _unsure), AudioError, "8000"),
    ("recognize: rate not whole", lambda: recognition.recognize(SPEECH, 16000.5, _unsure), AudioError, "whole"),
    ("recognize: rate a string", lambda: recognition.recognize(SPEECH, "16k", _unsure), AudioError, "sample_rate"),
    ("recognize: an hour of audio", lambda: recognition.recognize(np.tile(SPEECH, 3600), 16000, _unsure),
     AudioError, "lasts"),
    ("recognize: threshold > 1", lambda: recognition.recognize(SPEECH, 16000, _unsure, min_confidence=2),
     ValueError, "min_confidence"),
    ("recognize_digit: NaN", lambda: processing.recognize_digit(NAN, 8000, _unsure), AudioError, "NaN"),
    ("recognize_digit: rate 0", lambda: processing.recognize_digit(SPEECH, 0, _unsure), AudioError, "sample_rate"),
    ("transcribe: stereo", lambda: digit_strings.transcribe(STEREO, 8000, model=_unsure), AudioError, "mono"),
    # the codecs (notebook 02)
    ("speech encode: NaN", lambda: speech_codec.encode(NAN, 8000), AudioError, "NaN"),
    ("speech encode: negative rate", lambda: speech_codec.encode(SPEECH, -1), AudioError, "sample_rate"),
    ("speech encode: 5 ms", lambda: speech_codec.encode(SPEECH[:80], 16000), AudioError, "too short"),
    ("speech decode: garbage", lambda: speech_codec.decode(b"garbage"), StreamError, "truncated"),
    ("image encode: float pixels", lambda: image_codec.encode(RGB.astype(np.float32)), ImageError, "uint8"),
    ("image encode: greyscale array", lambda: image_codec.encode(RGB[..., 0]), ImageError, "(H, W, 3)"),
    ("image encode: 0×0", lambda: image_codec.encode(np.zeros((0, 0, 3), np.uint8)), ImageError, "16–8192"),
    ("image decode: garbage", lambda: image_codec.decode(b"garbage"), StreamError, "truncated"),
    ("opus: 5 kbps", lambda: compression.opus_encode(SPEECH, 16000, 5000), ValueError, "6000–510000"),
    ("opus: stereo", lambda: compression.opus_encode(STEREO, 16000), AudioError, "mono"),
    ("opus decode: garbage", lambda: compression.opus_decode(b"garbage"), StreamError, "not an Ogg Opus file"),
    ("codec2: 700C mode", lambda: compression.codec2_encode(SPEECH, 16000, 700), ValueError, "mode"),
    ("codec2 decode: half a frame", lambda: compression.codec2_decode(b"1234", 3200), StreamError, "whole"),
    ("webp: quality 101", lambda: compression.pillow_bytes(RGB, "webp", 101), ValueError, "0–100"),
    ("avif: float pixels", lambda: compression.pillow_bytes(RGB.astype(np.float32), "avif", 50), ImageError, "uint8"),
    ("opus: int16-scale floats", lambda: compression.opus_encode(SPEECH * 32767, 16000), AudioError, "peaks at 1.6"),
    ("codec2: int16-scale floats", lambda: compression.codec2_encode(SPEECH * 32767, 16000), AudioError, "peaks at"),
    ("speech_baselines: unknown key", lambda: compression.speech_baselines([SPEECH], 16000, keys=("opus_7",)),
     ValueError, "known: ['opus_6kbps'"),
    ("classical_curve: no images", lambda: compression.classical_curve([], "jpeg"), ValueError, "images: empty"),
    ("classical_curve: under MS-SSIM's 161 px", lambda: compression.classical_curve([RGB], "jpeg", (50,)),
     ImageError, "images[0]: size 64×64"),
    ("classical_comparison: PNG", lambda: compression.classical_comparison({}, [RGB], codecs=("png",)),
     ValueError, "unknown image codec 'png'"),
    ("classical_at_bpp: NaN bpp", lambda: compression.classical_at_bpp(RGB, "jpeg", float("nan")), ValueError,
     "target_bpp"),
    ("classical_at_bpp: negative bpp", lambda: compression.classical_at_bpp(RGB, "jpeg", -0.5), ValueError,
     "target_bpp"),
    ("bpp: no pixels", lambda: compression.bpp(b"1234", (0, 0, 3)), ValueError, "image_shape"),
    ("kbps: no samples", lambda: compression.kbps(b"1234", 0, 16000), ValueError, "n_samples"),
    ("rate_distortion: nothing under max_bpp", lambda: plots.rate_distortion(
        {"x": {"bpp": [2.0], "psnr": [30.0], "ms_ssim": [0.9]}}), ValueError, "max_bpp"),
    ("rate_quality: unknown version", lambda: plots.rate_quality({}, {"Opus": ["Opus 8 kbps"]}), ValueError,
     "not in scores: ['Opus 8 kbps']"),
    # images
    ("load_image: 20,000 bytes of junk", lambda: images.load_image(b"x" * 20000), ImageError, "<20000 bytes>"),
    ("load_image: float array", lambda: images.load_image(RGB.astype(np.float32)), ImageError, "uint8"),
    ("load_image: no such file", lambda: images.load_image("no/such.png"), FileNotFoundError, "no such image"),
    ("load_image: a number", lambda: images.load_image(3), TypeError, "got int"),
    ("face_crop: too small", lambda: face_swap.face_crop(np.zeros((10, 10, 3), np.uint8)), ImageError, "64×64"),
    ("translate: unknown direction", lambda: cyclegan.translate(RGB, direction="x2y"), ValueError, "direction"),
    # voice conversion (notebook 03)
    ("check_speech: 96 kHz", lambda: voice_conversion.check_speech(SPEECH, 96000), AudioError, "8000–48000"),
    ("check_speech: silence", lambda: voice_conversion.check_speech(SILENT, 16000), AudioError, "silent"),
    # text to speech (notebook 05): nothing dropped silently
    ("tts: empty", lambda: tts.synthesize("   "), TextError, "empty"),
    ("tts: only punctuation", lambda: tts.synthesize("?!..."), TextError, "no letters"),
    ("tts: emoji", lambda: tts.synthesize("hello 😀 world"), TextError, "😀"),
    ("tts: non-Latin script", lambda: tts.synthesize("你好"), TextError, "你好"),
    ("tts: not a string", lambda: tts.synthesize(42), TextError, "str"),
    ("tts: 120,000 characters", lambda: tts.synthesize("a " * 60000), TextError, "at most 100,000"),
    ("tacotron: empty", lambda: tacotron_tts.synthesize("   "), TextError, "empty"),
    ("tacotron: emoji", lambda: tacotron_tts.synthesize("hello 😀 world"), TextError, "😀"),
    ("tts: Greek letter", lambda: text.normalize_text("Ω"), TextError, "no English reading"),
    # metrics and audio files
    ("pocketsphinx: stereo", lambda: metrics.transcribe_pocketsphinx(STEREO, 16000), AudioError, "mono"),
    ("stoi: NaN test signal", lambda: metrics.stoi(SPEECH, np.full_like(SPEECH, np.nan), 16000), AudioError, "test"),
    ("error_rates: lengths differ", lambda: metrics.error_rates(["a", "b"], ["a"]), ValueError, "2 references"),
    ("error_rates: empty reference", lambda: metrics.error_rates([""], ["a"]), ValueError, "at least one word"),
    ("psnr: batch without reduction", lambda: metrics.psnr(RGB[None], RGB[None]), ValueError, "reduction"),
    ("common_range: empty", lambda: metrics.common_range([], [30.0, 32.0]), ValueError, "values_a is empty"),
    ("f0_rmse: not aligned", lambda: metrics.f0_rmse(np.ones(5), np.ones(4)), ValueError, "aligned"),
    ("load_audio: no such file", lambda: audio.load_audio("no/such.wav"), FileNotFoundError, "no such audio"),
    ("describe: unknown data set", lambda: data.describe("nope"), KeyError, "unknown data set"),
]


@pytest.mark.parametrize("name, call, error, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_short_clear_error(name, call, error, fragment):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    assert fragment in message, message
    assert len(message) < 400, f"{len(message)} characters: {message[:200]}…"
    assert info.type.__module__.startswith(("course_utils", "builtins")), info.type  # ours, not a library's


def test_the_table_covers_at_least_thirty_bad_inputs_across_the_public_api():
    assert len(CASES) >= 30
    assert len({name.split(":")[0] for name, *_ in CASES}) >= 15
