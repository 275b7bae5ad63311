"""Small deterministic signals for notebook 11 (CNNs beyond images): text and sound.

* :func:`sentiment_sentences`: a synthetic text-classification set in which word order is
  the only cue: every sentence holds one sentiment word and one ``"not"``, which flips the
  sentiment only when it stands right before the word (``"not good"`` is negative, ``"not"``
  elsewhere changes nothing). Sentences of both labels have the same words, so a bag of
  words cannot beat chance, but a convolution over pairs of neighbouring words can;
* :func:`sentiment_label`: the rule that labels those sentences;
* :func:`chirp`: a (harmonic) tone whose pitch sweeps linearly from one frequency to another;
* :func:`spectrogram`: a magnitude spectrogram in decibels, scaled to [0, 1], via ``torch.stft``;
* :func:`log_frequency`: resample a spectrogram onto log-spaced frequencies, where a change
  of pitch becomes a translation along the frequency axis.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, as_int, check_ndim

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "VOCAB",
    "chirp",
    "log_frequency",
    "sentiment_label",
    "sentiment_sentences",
    "spectrogram",
]

#: The vocabulary of :func:`sentiment_sentences`; token ``i`` is ``VOCAB[i]`` (0 is padding).
VOCAB = (
    "<pad>",
    "the",
    "movie",
    "film",
    "plot",
    "acting",
    "was",
    "is",
    "really",
    "quite",
    "and",
    "i",
    "think",
    "it",
    "not",
    "good",
    "great",
    "bad",
    "boring",
)
#: Sentiment words: positive (label 1) and negative (label 0), unless ``"not"`` precedes them.
POSITIVE = ("good", "great")
NEGATIVE = ("bad", "boring")
_NOT = VOCAB.index("not")
_SENTIMENT = tuple(VOCAB.index(word) for word in (*POSITIVE, *NEGATIVE))
_FILLERS = tuple(range(VOCAB.index("the"), _NOT))  # "the" ... "it"


def sentiment_label(tokens) -> np.ndarray:
    """The label of each sentence of :func:`sentiment_sentences`, by the rule that made it.

    A sentence is positive (1) if its sentiment word is in :data:`POSITIVE` and the word
    right before it is not ``"not"``, or if it is in :data:`NEGATIVE` and right after
    ``"not"``; otherwise negative (0). Where the sentence's ``"not"`` stands anywhere else
    it changes nothing.

    Args:
        tokens: ``(n, length)`` indices into :data:`VOCAB`, one sentiment word per row.

    Returns:
        ``(n,)`` int64 labels.
    """
    fname = "sentiment_label"
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
        raise ValueError(
            f"{fname}: tokens must be an (n, length) integer array, got shape "
            f"{tokens.shape} and dtype {tokens.dtype}"
        )
    is_sentiment = np.isin(tokens, _SENTIMENT)
    if np.any(is_sentiment.sum(axis=1) != 1):
        raise ValueError(f"{fname}: every row of tokens must hold exactly one sentiment word")
    position = np.argmax(is_sentiment, axis=1)
    rows = np.arange(len(tokens))
    word = tokens[rows, position]
    negated = (position > 0) & (tokens[rows, np.maximum(position - 1, 0)] == _NOT)
    positive = np.isin(word, _SENTIMENT[: len(POSITIVE)])
    return (positive ^ negated).astype(np.int64)


def sentiment_sentences(n: int, length: int = 12, seed: int = 0):
    """``n`` synthetic sentences of ``length`` tokens in which only word order decides the label.

    Every sentence is ``length - 2`` filler words (``"the"``, ``"movie"``, ...), one
    sentiment word (``"good"``, ``"great"``, ``"bad"`` or ``"boring"``, equally often) and
    one ``"not"``. In half of the sentences with each sentiment word (exactly half when
    ``n`` is a multiple of 8), ``"not"`` stands right before the sentiment word and flips it
    (``"not good"`` is negative); in the others it stands anywhere else and changes nothing
    (:func:`sentiment_label` is the rule). So both labels contain the same words, equally
    often: the label is independent of the multiset of words, and only the order of two
    neighbouring words decides it.

    Returns:
        tokens: ``(n, length)`` int64 indices into :data:`VOCAB`;
        labels: ``(n,)`` int64, 1 for positive and 0 for negative.
    """
    fname = "sentiment_sentences"
    n = as_int(n, "n", fname, minimum=1)
    length = as_int(length, "length", fname, minimum=3)
    seed = as_int(seed, "seed", fname, minimum=0)
    rng = np.random.default_rng(seed)
    tokens = rng.choice(np.array(_FILLERS), size=(n, length))
    combos = rng.permutation(np.arange(n) % (2 * len(_SENTIMENT)))  # all 8 equally often
    words = np.array(_SENTIMENT)[combos // 2]
    negated = combos % 2 == 1
    for i in range(n):
        if negated[i]:
            where = int(rng.integers(1, length))  # "not" at where - 1, the word at where
            tokens[i, where - 1 : where + 1] = (_NOT, words[i])
        else:
            where = int(rng.integers(length))
            elsewhere = [j for j in range(length) if j not in (where - 1, where)]
            tokens[i, where] = words[i]
            tokens[i, int(rng.choice(elsewhere))] = _NOT
    tokens = tokens.astype(np.int64)
    return tokens, sentiment_label(tokens)


def chirp(
    f_start: float,
    f_end: float,
    duration: float = 0.5,
    sample_rate: int = 8000,
    harmonics: int = 1,
) -> np.ndarray:
    """A tone whose pitch sweeps linearly from ``f_start`` to ``f_end`` Hz.

    With ``harmonics = h`` the sound also contains the frequencies 2f, ..., hf (amplitude
    1/k), like a voice or an instrument; ``f_start == f_end`` gives a steady tone. The
    first and last 10 ms fade in and out, so the sound starts and stops without a click.

    Returns:
        ``(round(duration * sample_rate),)`` float64 samples, peak amplitude at most 1.
    """
    fname = "chirp"
    sample_rate = as_int(sample_rate, "sample_rate", fname, minimum=1)
    harmonics = as_int(harmonics, "harmonics", fname, minimum=1)
    for name, value in (("f_start", f_start), ("f_end", f_end), ("duration", duration)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{fname}: {name} must be a positive number, got {value!r}")
    if harmonics * max(f_start, f_end) >= sample_rate / 2:
        raise ValueError(
            f"{fname}: harmonics * max(f_start, f_end) must be below sample_rate / 2 = "
            f"{sample_rate / 2}, got {harmonics * max(f_start, f_end)}"
        )
    t = np.arange(round(duration * sample_rate)) / sample_rate
    phase = 2 * np.pi * (f_start * t + (f_end - f_start) * t**2 / (2 * duration))
    k = np.arange(1, harmonics + 1)[:, None]
    wave = (np.sin(k * phase) / k).sum(axis=0) / np.sum(1.0 / k)
    fade = min(len(t) // 2, round(0.01 * sample_rate))  # 10 ms fade in and out, no click
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / max(fade, 1))
    wave[:fade] *= ramp
    wave[len(wave) - fade :] *= ramp[::-1]
    return wave


def spectrogram(signal, sample_rate: int = 8000, n_fft: int = 256, hop: int = 64, db_range=60.0):
    """Magnitude spectrogram in decibels, scaled to [0, 1], computed with ``torch.stft``.

    A Hann window of ``n_fft`` samples moves by ``hop`` samples (``center=True``). Values
    are ``1 + dB / db_range`` with dB relative to the loudest bin, clipped at 0: 1 is the
    loudest bin, 0 is ``db_range`` dB quieter or less.

    Args:
        signal: samples, shape ``(L,)``.

    Returns:
        spec: ``(n_fft // 2 + 1, L // hop + 1)``, frequency along axis 0 (row 0 = 0 Hz),
            time along axis 1;
        freqs: ``(n_fft // 2 + 1,)`` the frequency of each row in Hz;
        times: ``(L // hop + 1,)`` the centre of each column in seconds.
    """
    import torch

    fname = "spectrogram"
    signal = as_float_array(signal, "signal", fname).astype(np.float64)
    check_ndim(signal, "signal", fname, {1: "(L,)"})
    sample_rate = as_int(sample_rate, "sample_rate", fname, minimum=1)
    n_fft = as_int(n_fft, "n_fft", fname, minimum=2)
    hop = as_int(hop, "hop", fname, minimum=1)
    if len(signal) <= n_fft // 2:
        raise ValueError(f"{fname}: signal must be longer than n_fft // 2 = {n_fft // 2} samples")
    if isinstance(db_range, bool) or not isinstance(db_range, (int, float)) or db_range <= 0:
        raise ValueError(f"{fname}: db_range must be a positive number, got {db_range!r}")
    window = torch.hann_window(n_fft, dtype=torch.float64)
    stft = torch.stft(
        torch.from_numpy(signal), n_fft, hop, window=window, center=True, return_complex=True
    )
    magnitude = stft.abs().numpy()
    db = 20 * np.log10(np.maximum(magnitude, 1e-12) / max(magnitude.max(), 1e-12))
    spec = np.clip(1 + db / db_range, 0.0, 1.0)
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    times = np.arange(spec.shape[1]) * hop / sample_rate
    return spec, freqs, times


def log_frequency(spec, freqs, f_min: float, f_max: float, n_bins: int):
    """Resample a spectrogram onto ``n_bins`` log-spaced frequencies (linear interpolation).

    On this axis, multiplying every frequency by a factor (a change of pitch) moves the
    picture by ``log(factor) / log(f_max / f_min) * (n_bins - 1)`` rows: a translation, which
    is what a convolution sliding along frequency is built for.

    Args:
        spec: ``(F, T)`` with row ``i`` at frequency ``freqs[i]``.
        freqs: ``(F,)`` increasing frequencies in Hz.

    Returns:
        ``(n_bins, T)`` resampled spectrogram and the ``(n_bins,)`` centre frequencies.
    """
    fname = "log_frequency"
    spec = as_float_array(spec, "spec", fname)
    freqs = as_float_array(freqs, "freqs", fname)
    check_ndim(spec, "spec", fname, {2: "(F, T)"})
    check_ndim(freqs, "freqs", fname, {1: "(F,)"})
    if len(freqs) != spec.shape[0] or len(freqs) < 2 or np.any(np.diff(freqs) <= 0):
        raise ValueError(
            f"{fname}: freqs must be {spec.shape[0]} increasing frequencies (one per row of "
            f"spec), got shape {tuple(freqs.shape)}"
        )
    n_bins = as_int(n_bins, "n_bins", fname, minimum=2)
    if not (freqs[0] <= f_min < f_max <= freqs[-1]):
        raise ValueError(
            f"{fname}: need freqs[0] <= f_min < f_max <= freqs[-1] = {freqs[-1]}, "
            f"got f_min={f_min!r}, f_max={f_max!r}"
        )
    centres = np.geomspace(f_min, f_max, n_bins)
    upper = np.clip(np.searchsorted(freqs, centres, side="right"), 1, len(freqs) - 1)
    lower = upper - 1
    weight = (centres - freqs[lower]) / (freqs[upper] - freqs[lower])
    resampled = (1 - weight)[:, None] * spec[lower] + weight[:, None] * spec[upper]
    return resampled, centres
