"""`ecom profile` on the real sample and on generated data, side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecom.profile import check_against_reference, profile_files


def test_profile_of_the_real_sample(sample_dir: Path) -> None:
    profile = profile_files([sample_dir])
    assert profile.rows == 10_000
    assert profile.months == dict.fromkeys(
        ("2019-10", "2019-11", "2019-12", "2020-01", "2020-02"), 2000
    )
    # a random sample keeps the row-level marginals of the full data set ...
    assert profile.event_mix["view"] == pytest.approx(0.467, abs=0.03)
    assert profile.null_rate["brand"] == pytest.approx(0.423, abs=0.03)
    assert profile.null_rate["category_code"] == pytest.approx(0.983, abs=0.01)
    assert profile.price_quartiles[1] == pytest.approx(4.05, rel=0.1)
    assert profile.peak_hour in (18, 19, 20)
    # ... but not the session structure, which sampling destroys: the check says so
    problems = check_against_reference(profile)
    assert any("one-session users" in p for p in problems)


def test_generated_and_real_agree_on_row_level_marginals(
    sample_dir: Path, generated_dir: Path
) -> None:
    real, generated = profile_files([sample_dir]), profile_files([generated_dir])
    for t in real.event_mix:
        assert generated.event_mix[t] == pytest.approx(real.event_mix[t], abs=0.03)
    for q_real, q_gen in zip(real.price_quartiles, generated.price_quartiles, strict=True):
        assert q_gen == pytest.approx(q_real, rel=0.25)
    assert generated.peak_hour == 19


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no CSV files"):
        profile_files([tmp_path])
