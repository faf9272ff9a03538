"""The course's models: one file per model, the paper named at its top.

The neural networks, and one classical model they are measured against (the JD-GMM converter).

Each file reads top to bottom like a keras-io example: the custom layers and the builder (or the
``keras.Model`` subclass) at module level, nothing else. Data, training loops and public functions
on raw input live in the pipeline modules named in brackets. This package imports nothing itself:
``from course_utils.models import digit_classifiers`` imports Keras, ``import course_utils`` does not.

Notebook 01 (:mod:`course_utils.processing`)

* :mod:`~course_utils.models.image_cnn` — VGG-style CNN classifying photos by domain.
* :mod:`~course_utils.models.digit_lstm` — bidirectional LSTM on MFCC frames for spoken digits.

Notebook 02 (:mod:`course_utils.image_codec`, :mod:`course_utils.speech_codec`, :mod:`course_utils.vae`)

* :mod:`~course_utils.models.factorized_prior` — learned image codec with a factorised prior (Ballé et al. 2017).
* :mod:`~course_utils.models.hyperprior` — learned image codec with a scale hyperprior (Ballé et al. 2018).
* :mod:`~course_utils.models.vae` — variational autoencoder.
* :mod:`~course_utils.models.wavenet` — WaveNet vocoder of the speech codec.

Notebook 03 (:mod:`course_utils.voice_conversion`, :mod:`course_utils.face_swap`)

* :mod:`~course_utils.models.voice_conversion` — DNN mapping one speaker's spectral features to another's.
* :mod:`~course_utils.models.gmm_converter` — the classical baseline: joint-density GMM with maximum-likelihood
  parameter generation (scikit-learn's ``GaussianMixture``; no Keras).
* :mod:`~course_utils.models.face_swap` — shared-encoder, two-decoder face-swap autoencoder.

Notebook 04 (:mod:`course_utils.recognition`, :mod:`course_utils.digit_features`,
:mod:`course_utils.digit_strings`)

* :mod:`~course_utils.models.digit_classifiers` — CNN, CRNN and Transformer isolated-digit recognisers,
  with the SpecAugment and positional-encoding layers.
* :mod:`~course_utils.models.ctc` — CTC acoustic model for digit strings, its loss and decoding.

Notebook 05 (:mod:`course_utils.cyclegan`, :mod:`course_utils.tts`, :mod:`course_utils.tacotron_tts`)

* :mod:`~course_utils.models.cyclegan` — CycleGAN image-to-image translation.
* :mod:`~course_utils.models.fastspeech` — the duration model (phonemes → durations → WORLD features).
* :mod:`~course_utils.models.tacotron` — Tacotron-style text-to-spectrogram model.
"""
