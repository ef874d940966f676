"""The Python API: ``doublet.find``, ``doublet.find_files`` and ``doublet.compare``, mirroring the CLI.

>>> import doublet
>>> result = doublet.find([("a", "some text ..."), ("b", "some other text ...")])
>>> for pair in result.pairs:
...     print(pair.a, pair.b, pair.kind, pair.jaccard, pair.passages)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .analysis import PairResult, compare_prepared, fingerprint_batch, prepare
from .candidates import postings
from .config import Config
from .documents import Document, InputProblem, documents_from_items, read_groups
from .engines import local
from .progress import Progress
from .result import Result
from .template import Rules, user_hashes

DocumentLike = Document | tuple[str, str] | dict[str, Any] | str


def find(documents: Iterable[DocumentLike], config: Config | None = None, *, progress: Progress | None = None,
         against: Iterable[DocumentLike] | None = None) -> Result:
    """Find near-duplicate and reusing pairs, passages and clusters among in-memory documents.

    With ``against`` (REFERENCE documents): only the pairs of a document of ``documents`` (NEW) with one of
    ``against``, exactly those a run over both reports; :meth:`Result.against` gives, per NEW document, the
    share of it found in REFERENCE and where (see :mod:`doublet.against`). Ids must be unique over both."""
    cfg = config or Config()
    problems: list[InputProblem] = []
    seen: set[str] | None = set() if against is not None else None
    new = documents_from_items(documents, max_chars=cfg.max_chars, problems=problems, seen_ids=seen)
    ref = None if against is None else documents_from_items(against, max_chars=cfg.max_chars, problems=problems,
                                                            source="<api against>", seen_ids=seen)
    return local.run(new, cfg, problems=problems, progress=progress, against=ref)


def find_files(inputs: Iterable[str], config: Config | None = None, *, id_field: str = "id",
               text_field: str = "text", site_field: str | None = None, progress: Progress | None = None,
               engine: str = "local", against: Iterable[str] | None = None) -> Result:
    """Like :func:`find`, reading documents from files and folders (see :mod:`doublet.documents`);
    ``site_field`` names the JSON Lines / CSV / Parquet field saying which site each record comes from (the
    site rule of :mod:`doublet.template`).

    ``engine="spark"`` reads and processes them with Apache Spark (the active session, or ``local[workers]``;
    see :mod:`doublet.spark`): the same Result.

    ``against`` (REFERENCE files and folders; ``inputs`` are NEW): as :func:`find`'s.
    """
    cfg = config or Config()
    reference = None if against is None else list(against)
    if engine == "spark":
        from .engines import spark

        run = spark.run_files(spark.session(cfg), list(inputs), cfg, id_field=id_field, text_field=text_field,
                              site_field=site_field, against=reference)
        try:
            return run.to_result()
        finally:
            run.close()
    if engine != "local":
        raise ValueError(f"engine must be 'local' or 'spark', not {engine!r}")
    problems: list[InputProblem] = []
    new, ref = read_groups(list(inputs), reference, id_field=id_field, text_field=text_field, site_field=site_field,
                           max_chars=cfg.max_chars, problems=problems)
    return local.run(new, cfg, problems=problems, progress=progress, against=ref)


def dedup_passages(documents: Iterable[DocumentLike], config: Config | None = None, *, keep: str = "first",
                   min_chars: int = 100, templates: bool = False) -> tuple[list[tuple[str, str]], list[dict]]:
    """Passage-level dedup of in-memory documents (``doublet dedup --passages``, see
    :mod:`doublet.passage_dedup`): the documents kept, ``(id, text)`` in input order with the passages found in
    an earlier-kept document removed (and with ``templates`` their template blocks), and one dict per removed
    span (``removed_spans.jsonl``'s rows)."""
    from . import passage_dedup

    cfg = config or Config()
    problems: list[InputProblem] = []
    with local.run(documents_from_items(documents, max_chars=cfg.max_chars, problems=problems), cfg,
                   problems=problems, keep_corpus=True) as result:
        ids = result.ids

        def rerun(text_of: Any) -> Result:
            return local.run((Document(d, t) for k, d in enumerate(ids) if (t := text_of(k)) is not None), cfg,
                             keep_corpus=True)

        outcome = passage_dedup.until_stable(result, cfg, rerun, keep=keep, min_chars=min_chars, templates=templates)
        texts = ((d, outcome.texts[k] if k in outcome.texts else result.text(k)) for k, d in enumerate(ids))
        return [(d, t) for d, t in texts if t is not None], [r.to_dict(ids) for r in outcome.removed]


def compare(text_a: str, text_b: str, config: Config | None = None) -> PairResult:
    """Compare two texts directly: exact overlap, aligned passages and verdict.

    The two texts are treated as a corpus of two documents without sites, as ``find([("a", text_a), ("b",
    text_b)])`` treats them: text in template-shaped lines in both, and the user's template texts, are
    template (:func:`two_document_templates`); the site and frequency rules need more documents. When the
    verdict is not ``None``, ``find`` of the two reports this very pair (the candidate rule proposes every
    passage verification accepts, see :func:`doublet.config.candidate_rule`)."""
    cfg = config or Config()
    boilerplate = two_document_templates(text_a, text_b, cfg)
    return compare_prepared("a", "b", prepare(text_a, cfg, boilerplate), prepare(text_b, cfg, boilerplate), cfg)


def two_document_templates(text_a: str, text_b: str, cfg: Config) -> np.ndarray:
    """Sorted hashes of the fingerprints that the template rules judge template in a corpus of these two
    documents (no sites): the same decision as the engines' (:func:`doublet.candidates.postings`)."""
    prints = fingerprint_batch([text_a, text_b], cfg)
    docs = np.repeat(np.arange(2, dtype=np.int64), prints.fp_counts)
    user = user_hashes(cfg.template_texts, cfg.shingle_size) if cfg.template_texts else None
    post = postings(prints.fp_hashes, docs, prints.fp_pos, prints.fp_shape, cfg.max_df, rules=Rules.of(cfg),
                    user=user)
    return post.templates.hashes
