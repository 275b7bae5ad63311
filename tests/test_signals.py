"""helpers.signals: the synthetic text set and the sound helpers behave as documented."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from named_errors import raises_named

from helpers.signals import (
    NEGATIVE,
    POSITIVE,
    VOCAB,
    chirp,
    log_frequency,
    sentiment_label,
    sentiment_sentences,
    spectrogram,
)


def _by_hand(words):
    """Label one sentence (a list of words) by the documented rule, independently."""
    (where,) = [i for i, w in enumerate(words) if w in POSITIVE + NEGATIVE]
    negated = where > 0 and words[where - 1] == "not"
    return int((words[where] in POSITIVE) != negated)


def test_sentences_are_deterministic_and_labelled_by_word_order():
    tokens, labels = sentiment_sentences(400, length=10, seed=4)
    again, labels_again = sentiment_sentences(400, length=10, seed=4)
    assert tokens.shape == (400, 10) and tokens.dtype == np.int64 and labels.dtype == np.int64
    assert np.array_equal(tokens, again) and np.array_equal(labels, labels_again)
    assert not np.array_equal(tokens, sentiment_sentences(400, length=10, seed=5)[0])
    assert np.array_equal(sentiment_label(tokens), labels)
    negated = 0
    for row, label in zip(tokens, labels, strict=True):
        words = [VOCAB[i] for i in row]
        assert "<pad>" not in words
        assert words.count("not") == 1
        assert sum(w in POSITIVE + NEGATIVE for w in words) == 1
        assert _by_hand(words) == label
        where = next(i for i, w in enumerate(words) if w in POSITIVE + NEGATIVE)
        negated += where > 0 and words[where - 1] == "not"
    assert negated == 200  # "not" flips the word in exactly half of the sentences
    assert labels.mean() == 0.5


def test_each_sentiment_word_is_positive_in_exactly_half_of_its_sentences():
    tokens, labels = sentiment_sentences(800, seed=0)
    for word in POSITIVE + NEGATIVE:
        has = (tokens == VOCAB.index(word)).any(axis=1)
        assert has.sum() == 200 and labels[has].mean() == 0.5


def test_the_label_is_not_a_function_of_the_words():
    """Moving the "not" keeps the multiset of words and flips the label, for every sentence:
    so any bag-of-words classifier gets exactly one sentence of each such pair right."""
    tokens, labels = sentiment_sentences(300, length=8, seed=2)
    for row, label in zip(tokens, labels, strict=True):
        words = [VOCAB[i] for i in row]
        rest = [w for w in words if w != "not"]
        where = next(i for i, w in enumerate(rest) if w in POSITIVE + NEGATIVE)
        next_to_it, away = rest[:where] + ["not"] + rest[where:], rest + ["not"]
        partner = away if words == next_to_it else next_to_it
        assert sorted(partner) == sorted(words)
        ids = np.array([[VOCAB.index(w) for w in partner]])
        assert _by_hand(partner) == sentiment_label(ids)[0] == 1 - label
    # the same multiset occurs with both labels in the data themselves, too
    seen = {}
    big_tokens, big_labels = sentiment_sentences(4000, length=4, seed=3)
    for row, label in zip(big_tokens.tolist(), big_labels.tolist(), strict=True):
        seen.setdefault(tuple(sorted(row)), set()).add(label)
    both = sum(len(labels) == 2 for labels in seen.values())
    assert both > 100


def test_sentiment_label_reads_the_word_before():
    ids = np.array(
        [
            [VOCAB.index(w) for w in s.split()]
            for s in ("not good the", "good not the", "the not bad", "bad the not")
        ]
    )
    assert sentiment_label(ids).tolist() == [0, 1, 1, 0]


def test_chirp_frequency_follows_the_sweep():
    rate = 8000
    wave = chirp(500, 1500, duration=1.0, sample_rate=rate)
    assert wave.shape == (rate,) and np.abs(wave).max() <= 1.0
    # instantaneous frequency from zero crossings in the middle tenth: about 1000 Hz
    middle = wave[int(0.45 * rate) : int(0.55 * rate)]
    crossings = np.sum(np.diff(np.signbit(middle).astype(int)) != 0)
    assert abs(crossings / 2 / 0.1 - 1000) < 30
    assert wave[0] == 0 and abs(wave[-1]) < 1e-3  # faded in and out


def test_spectrogram_matches_torch_stft_and_finds_the_tone():
    rate, n_fft, hop = 8000, 256, 64
    wave = chirp(1000, 1000, duration=0.5, sample_rate=rate)
    spec, freqs, times = spectrogram(wave, rate, n_fft, hop)
    assert spec.shape == (n_fft // 2 + 1, len(wave) // hop + 1) == (len(freqs), len(times))
    assert spec.min() >= 0 and spec.max() == 1
    assert freqs[int(np.argmax(spec[:, spec.shape[1] // 2]))] == 1000
    window = torch.hann_window(n_fft, dtype=torch.float64)
    mag = torch.stft(torch.from_numpy(wave), n_fft, hop, window=window, return_complex=True)
    db = 20 * np.log10(np.maximum(mag.abs().numpy() / mag.abs().max().item(), 1e-12))
    np.testing.assert_allclose(spec, np.clip(1 + db / 60, 0, 1), atol=1e-12)


def test_log_frequency_turns_a_pitch_shift_into_a_translation():
    rate = 8000
    spec_a, freqs, _ = spectrogram(chirp(200, 200, harmonics=4, sample_rate=rate), rate, 1024)
    spec_b, _, _ = spectrogram(chirp(400, 400, harmonics=4, sample_rate=rate), rate, 1024)
    n_bins, f_min, f_max = 120, 100.0, 3200.0
    log_a, centres = log_frequency(spec_a, freqs, f_min, f_max, n_bins)
    log_b, _ = log_frequency(spec_b, freqs, f_min, f_max, n_bins)
    assert log_a.shape == (n_bins, spec_a.shape[1]) and np.isclose(centres[-1], f_max)
    shift = round(np.log(2) / np.log(f_max / f_min) * (n_bins - 1))
    a, b = log_a[:, 10], log_b[:, 10]
    lags = range(-40, 41)
    best = max(lags, key=lambda lag: np.dot(np.roll(a, lag)[40:-40], b[40:-40]))
    assert abs(best - shift) <= 1


def test_log_frequency_is_linear_interpolation():
    rng = np.random.default_rng(0)
    spec, freqs = rng.random((33, 5)), np.linspace(0, 4000, 33)
    out, centres = log_frequency(spec, freqs, 50.0, 3900.0, 17)
    expected = np.stack([np.interp(centres, freqs, spec[:, t]) for t in range(5)], axis=1)
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: sentiment_sentences(0), ("sentiment_sentences", "n")),
        (lambda: sentiment_sentences(5, length=2), ("sentiment_sentences", "length")),
        (lambda: sentiment_label(np.zeros(4, dtype=int)), ("sentiment_label", "tokens")),
        (lambda: sentiment_label(np.zeros((2, 4), dtype=int)), ("sentiment_label", "every row")),
        (lambda: chirp(-1, 100), ("chirp", "f_start")),
        (lambda: chirp(1000, 3000, harmonics=2), ("chirp", "harmonics")),
        (lambda: spectrogram(np.zeros((2, 300))), ("spectrogram", "signal")),
        (lambda: spectrogram(np.zeros(10)), ("spectrogram", "signal")),
        (lambda: spectrogram(np.zeros(600), db_range=0), ("spectrogram", "db_range")),
        (
            lambda: log_frequency(np.zeros((5, 3)), np.arange(4.0), 1, 2, 4),
            ("log_frequency", "freqs"),
        ),
        (
            lambda: log_frequency(np.zeros((5, 3)), np.arange(5.0), 3, 9, 4),
            ("log_frequency", "need"),
        ),
    ],
)
def test_bad_input_is_reported(call, words):
    with raises_named((ValueError, TypeError), *words):
        call()
