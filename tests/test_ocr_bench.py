"""The OCR benchmark's own parts: its text metrics and its corpus (deterministic pages whose truth is the text
drawn). The benchmark itself (bench/bench_ocr.py) runs real engines and is run by `make bench`, not here."""

from __future__ import annotations

from pathlib import Path

from bench.ocr_corpus import build, real_scans
from bench.ocr_texts import chinese
from bench.textmetrics import bag_f1, bag_of_words, cer


def test_chinese_is_counted_in_bigrams_of_han_runs_and_the_rest_in_lower_cased_words() -> None:
    bag = bag_of_words("档案 数字化，Payroll registers（2023年）")
    assert bag == {"档案": 1, "案数": 1, "数字": 1, "字化": 1, "payroll": 1, "registers": 1, "2023": 1, "年": 1}


def test_f1_and_cer_count_what_is_missing_and_what_is_extra() -> None:
    assert bag_f1("档案数字化", "档案数字化") == 1.0
    assert abs(bag_f1("档案数字化工作", "档案数字化") - 0.8) < 1e-9  # 4 of 6 found bigrams right, all 4 wanted
    assert bag_f1("", "records office") == 0.0
    assert cer("档案，数字化", "档案,数字化") == 0.0  # full-width and half-width punctuation are one character
    assert cer("档数字化", "档案数字化") == 0.2


def test_the_rendered_corpus_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    first = build(tmp_path / "a", 2, seed=5, real=False)
    second = build(tmp_path / "b", 2, seed=5, real=False)
    hard = [kind for kind in ("newspaper", "handwritten", "photographed") for _ in range(2)]
    assert [page.degradation for page in first] == ["clean", "blur", *hard]  # the hard Chinese pages follow
    assert [page.languages for page in first] == ["chi_sim+eng", "chi_tra+eng"] * 4
    for one, other in zip(first, second, strict=True):
        assert one.path.read_bytes() == other.path.read_bytes() and one.truth == other.truth
    simplified = first[0]
    assert len(simplified.truth) > 300 and simplified.truth.replace("\n", "") in chinese(traditional=False)
    assert build(tmp_path / "a", 2, seed=5, real=False) == first  # read back from the cache's manifest


def test_real_scans_are_left_out_when_there_is_no_mirror(tmp_path: Path) -> None:
    assert real_scans(tmp_path, tmp_path / "no-mirror") == []
