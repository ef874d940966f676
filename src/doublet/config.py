"""All of doublet's tunable parameters in one frozen dataclass.

Every default is chosen from a principle, not from one benchmark:

* ``shingle_size = 5`` words: the unit of document-level similarity (Jaccard, containment, MinHash). Five
  words are long enough that shared shingles mean shared text, short enough that light edits leave most of
  them intact; it is what datasketch, text-dedup and datatrove users use, so Jaccard figures are comparable.
* ``threshold = 0.7``: word 5-gram Jaccard at which two whole documents are *near-duplicates*. LSH bands
  and rows are derived from it (:func:`doublet.minhash.optimal_bands`).
* ``window`` (derived: 6 at the defaults): winnowing window over 5-gram hashes. Winnowing (Schleimer et al.
  2003) guarantees that any shared run of at least ``window + shingle_size - 1 = 10`` identical words yields a
  shared fingerprint, while keeping only about ``2 / (window + 1)`` ≈ 29 % of the positions. The window,
  ``min_shared`` and the spread the candidate rule asks for follow the verifier's ``min_words`` and
  ``min_passage_words`` (:func:`candidate_rule`), so that every passage verification would accept alone, up to
  edits spaced as the rule states, is proposed as a candidate whatever the settings.
* **Templates** (site navigation, headline lists, footers, header lines, signatures) are told from reuse by
  what the text is and where it occurs, never by how many documents hold it (see :mod:`doublet.template`):
  ``template_rules = ("shape", "site", "frequency")`` and ``template_share = 0.5`` (a recurring fingerprint is a
  template when half of the documents holding it show it in template-shaped lines, when all of them come from
  one site, or when in half of them it is far more common than their text and lies beyond it). Template fingerprints never create a candidate pair and the words they cover never enter a reported
  passage.
* ``max_df = 1000``: a cost bound, not a definition of boilerplate. A content fingerprint found in more
  documents proposes no candidate pair (its documents can still pair through their other shared text, and
  whole copies through LSH); it is not masked. A story reprinted up to a thousand times is found like one
  reprinted twice. passim bounds document frequency the same way (at 100).
* ``min_shared`` (derived: 2): shared non-boilerplate fingerprints needed before a pair is aligned. A 25-word passage
  carries about six fingerprints, so two still survive heavy editing; alignment then decides. The shared
  fingerprints must also spread over at least ``min_passage_words`` words in one of the two documents: two
  fingerprints a few words apart are one shared stock phrase, and such chance pairs grow faster than the
  corpus (a verbatim 25-word passage always spreads its fingerprints over 15 words or more). Only fingerprints
  with a neighbour on their band of diagonals count (offset in one document minus offset in the other, within
  ``max_gap``), as the fingerprints of one passage have; a fingerprint alone on its diagonal is a stock phrase.
* ``min_words = 25``: a pair is *reuse* when at least 25 of its words lie in verbatim runs of aligned
  passages (summed over passages, so a story reprinted as scattered sentences counts). Below that, shared
  text is usually a quotation or a stock phrase, not reuse.
* ``min_passage_words = 15``: the shortest passage reported, in words on each side: about one sentence.
* ``seed_size = 3`` / ``max_gap = 8`` / ``min_identity = 0.65``: alignment seeds are shared word 3-grams,
  chained along the diagonal while the gap between seeds is at most 8 words on both sides (a substituted or
  inserted word breaks three 3-grams, so this survives several nearby edits). About two thirds of a
  passage's words must lie in verbatim runs: copying with light revision passes (Clough & Stevenson's
  "light" answers change a word in four or five), a fresh write-up of the same facts, which keeps names and
  numbers but rewords half the sentence, does not. Raise it (0.75–0.8) for verbatim reprints only; lower it
  (0.5) to catch heavier revision at the cost of more pairs that only share phrasing.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from typing import Any

EDIT_SPACING = 10
"""Words between edits that the candidate guarantee always tolerates: the derived window never exceeds
``EDIT_SPACING - shingle_size + 1`` (6 for 5-word shingles), so raising ``min_words`` never makes candidate
generation blinder to edited passages than the defaults are."""


class CandidateRuleWarning(UserWarning):
    """An explicit ``window`` or ``min_shared`` weaker than the derived candidate rule: the guarantee that every
    passage verification accepts is proposed as a candidate no longer holds."""


@dataclass(frozen=True, slots=True)
class CandidateRule:
    """The fingerprint candidate rule a configuration runs with, and the guarantee it gives.

    A pair is a candidate when it shares ``min_shared`` banded content fingerprints spread over ``min_span``
    words (:func:`doublet.candidates.supported_pairs`), fingerprints being the winnowed (``window``) word
    ``shingle_size``-grams. When ``guaranteed``: every shared passage of at least ``passage_words`` words in
    verbatim runs, whose edits (substituted, inserted or deleted stretches, changing the diagonal by at most
    ``max_gap`` words each) lie at least ``edit_spacing`` words from each other and from the passage's ends, is
    proposed -- for its fingerprints that are not templates, not in more than ``max_df`` documents and not
    repeated earlier in the same document.
    """

    window: int
    min_shared: int
    min_span: int
    passage_words: int  # max(min_words, min_passage_words): the shortest passage verification accepts alone
    edit_spacing: int  # window + shingle_size - 1: the shortest verbatim run sure to hold a fingerprint
    guaranteed: bool
    why_not: str = ""  # when not guaranteed: the reason


@lru_cache(maxsize=64)
def candidate_rule(shingle_size: int, min_words: int, min_passage_words: int, window: int | None = None,
                   min_shared: int | None = None) -> CandidateRule:
    """The candidate rule that proposes every passage the verifier accepts alone (``window``/``min_shared``
    given: the user's values, with whether the guarantee still holds).

    Winnowing with window ``w`` over ``k``-word shingles puts a fingerprint in every run of ``w + k - 1``
    shared words (the minimum of a window of ``w`` shared shingles is chosen in both documents), and one within
    the first and the last ``w + k - 1`` words of a run. So a shared passage of ``N`` words (verbatim, or in
    runs of at least ``w + k - 1`` words between edits) holds at least two fingerprints when
    ``(N - k + 1) // w >= 2`` (or it has two runs), all on one band of diagonals, spread over at least
    ``N - 2w + 2`` words. With ``N = max(min_words, min_passage_words)``, ``min_shared = 2`` (the fewest the
    band rule sees: a fingerprint alone on its diagonal is dropped) and the spread ``min_span =
    min_passage_words``, the largest window that keeps both is ``min((N + 2 - min_span) // 2, (N - k + 1) //
    2)``, and it is capped at ``EDIT_SPACING - k + 1`` so that edits ``EDIT_SPACING`` words apart are always
    tolerated. At the defaults (25, 15, 5): window 6, as before the rule was derived.
    """
    n = max(min_words, min_passage_words)
    span = min_passage_words
    derived = max(1, min(EDIT_SPACING - shingle_size + 1, (n + 2 - span) // 2, (n - shingle_size + 1) // 2))
    w = derived if window is None else window
    m = 2 if min_shared is None else min_shared
    why = ""
    if n - shingle_size + 1 < 2:
        why = (f"a passage of {n} words holds fewer than two {shingle_size}-word shingles, too few to be seen by "
               "shared fingerprints (raise min_words or lower shingle_size)")
    elif m > 2:
        why = f"min_shared = {m} asks for more than the two fingerprints every accepted passage is sure to share"
    elif (n - shingle_size + 1) // w < 2 or n - 2 * w + 2 < span:
        why = (f"window = {w} is wider than {derived}, the widest that puts two fingerprints spread over "
               f"{span} words in every verbatim passage of {n} words")
    return CandidateRule(window=w, min_shared=m, min_span=span, passage_words=n,
                         edit_spacing=w + shingle_size - 1, guaranteed=not why, why_not=why)


@dataclass(frozen=True, slots=True)
class Config:
    """Parameters of a doublet run. Construct with keyword arguments; all have sensible defaults."""

    # --- document-level similarity (near-duplicates)
    shingle_size: int = 5
    """Words per shingle for Jaccard, containment and MinHash."""
    threshold: float = 0.7
    """Word-shingle Jaccard from which two documents are near-duplicates."""
    num_perm: int = 128
    """MinHash permutations (signature length)."""
    bands: int | None = None
    """LSH bands; ``None`` derives bands and rows from ``threshold``."""
    rows: int | None = None
    """LSH rows per band; ``None`` derives them from ``threshold``."""
    max_bucket: int = 200
    """LSH buckets larger than this emit a star (first member with each other) instead of all pairs."""

    # --- passage-level reuse
    window: int | None = None
    """Winnowing window over shingle hashes (shared runs of window+shingle_size-1 words hold a fingerprint);
    None derives it from min_words and min_passage_words (6 at the defaults)."""
    max_df: int = 1000
    """Cost bound: content fingerprints in more documents than this propose no pairs (they are not masked)."""
    common_df: int = 50
    """Cost bound: content fingerprints in more documents than this (common ones) propose pairs only from documents
    where another common fingerprint lies within the shortest reported passage: a stock phrase alone in a text
    proposes none, a popular story's copies hold them side by side."""
    template_rules: tuple[str, ...] = ("shape", "site", "frequency")
    """Template rules that apply: "shape" (template-shaped lines), "site" (recurring within one site only),
    "frequency" (on pages' peripheries, far more common than the text around it)."""
    template_share: float = 0.5
    """Share of a recurring fingerprint's documents that must show it template-shaped for it to be a template."""
    template_texts: tuple[str, ...] = ()
    """Texts the user declares template (--template FILE): every fingerprint of them is masked."""
    min_shared: int | None = None
    """Shared non-boilerplate fingerprints needed to align a pair (spread over min_passage_words words); None:
    2, the fewest the band rule sees."""
    min_words: int = 25
    """Least number of reused words (inside matching seeds, summed over passages) that makes a reusing pair."""
    min_passage_words: int = 15
    """Shortest reported passage, in words, on both sides (about one sentence)."""
    seed_size: int = 3
    """Words per alignment seed."""
    max_gap: int = 8
    """Largest gap, in words on either side, bridged between two alignment seeds."""
    min_identity: float = 0.65
    """Least share of a passage's words covered by matching seeds (verbatim runs): which reuse levels are
    reported (0.65: heavy, light and verbatim; 0.8: light and verbatim; 0.95: verbatim reprints only)."""

    # --- input
    max_chars: int = 10_000_000
    """Documents longer than this (characters) are rejected with a message; raise it to process them."""

    # --- execution
    workers: int = 1
    """Processes for the fingerprint and verification stages (the CLI defaults to all cores)."""
    memory_limit: int | None = None
    """Memory budget in bytes (CLI: e.g. 2GB): sizes spill partitions and caches. None: no explicit budget."""
    tmp_dir: str | None = None
    """Folder for the run's spill files (texts, fingerprint partitions); None: the system's temp folder."""
    seed: int = 1
    """Seed of the MinHash permutations; runs with the same seed give identical results."""

    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Free-form annotations copied into the summary (not used by the algorithms)."""

    def __post_init__(self) -> None:
        checks = [
            (self.shingle_size >= 1, "shingle_size must be >= 1"),
            (0.0 < self.threshold <= 1.0, "threshold must be in (0, 1]"),
            (self.num_perm >= 2, "num_perm must be >= 2"),
            (self.window is None or self.window >= 1, "window must be >= 1"),
            (self.max_df >= 2, "max_df must be >= 2 (a fingerprint must be shared to be evidence)"),
            (self.common_df >= 4, "common_df must be >= 4: the rule applies to fingerprints held by 5 documents or "
                                  "more (the frequency rule's, which it runs with)"),
            (set(self.template_rules) <= {"shape", "site", "frequency"},
             "template_rules may only name 'shape', 'site' and 'frequency'"),
            (0.0 < self.template_share <= 1.0, "template_share must be in (0, 1]"),
            (self.min_shared is None or self.min_shared >= 1, "min_shared must be >= 1"),
            (self.min_words >= 1, "min_words must be >= 1"),
            (self.min_passage_words >= 1, "min_passage_words must be >= 1"),
            (self.seed_size >= 1, "seed_size must be >= 1"),
            (self.max_gap >= 0, "max_gap must be >= 0"),
            (0.0 <= self.min_identity <= 1.0, "min_identity must be in [0, 1]"),
            (self.max_chars >= 1, "max_chars must be >= 1"),
            (self.workers >= 1, "workers must be >= 1"),
            (self.memory_limit is None or self.memory_limit >= 64 << 20, "memory_limit must be at least 64MB"),
            ((self.bands is None) == (self.rows is None), "give both bands and rows, or neither"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        if isinstance(self.template_rules, str) or isinstance(self.template_texts, str):
            raise ValueError("template_rules and template_texts are tuples of strings")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        rule = self.rule
        if not rule.guaranteed:
            warnings.warn(f"{rule.why_not}: passages verification would accept may not be proposed as candidates",
                          CandidateRuleWarning, stacklevel=3)

    @property
    def rule(self) -> CandidateRule:
        """The fingerprint candidate rule (window, min_shared, spread) this configuration runs with."""
        return candidate_rule(self.shingle_size, self.min_words, self.min_passage_words, self.window,
                              self.min_shared)

    def lsh_params(self) -> tuple[int, int]:
        """(bands, rows) used for LSH: explicit ones, or the optimum for ``threshold``."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        from .minhash import optimal_bands

        return optimal_bands(self.threshold, self.num_perm)

    def with_(self, **changes: Any) -> "Config":
        """A copy with some parameters changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Parameters as a JSON-ready dict (LSH bands/rows resolved)."""
        d = asdict(self)
        d["bands"], d["rows"] = self.lsh_params()
        d["window"], d["min_shared"] = self.rule.window, self.rule.min_shared  # as run (derived or given)
        d["template_rules"] = list(self.template_rules)
        d["template_texts"] = len(self.template_texts)  # how many; the texts themselves can be long
        if not d["extra"]:
            d.pop("extra")
        return d

    @staticmethod
    def from_dict(params: dict[str, Any]) -> "Config":
        """The configuration of a run from its ``summary.json`` parameters (:meth:`to_dict`): unknown keys are
        ignored, and the user's template texts, of which the summary keeps only the count, are left out."""
        names = {f.name for f in fields(Config)} - {"template_texts", "extra"}
        kept = {k: v for k, v in params.items() if k in names}
        if "template_rules" in kept:
            kept["template_rules"] = tuple(kept["template_rules"])
        return Config(**kept)

    @staticmethod
    def parse_size(text: str | int) -> int:
        """Bytes from ``2GB``, ``512MB``, ``1.5G``, ``800M``, ``1024`` (binary units: 1GB = 2**30 bytes)."""
        if isinstance(text, int):
            return text
        t = text.strip().upper().rstrip("B").rstrip("I")
        units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
        try:
            if t and t[-1] in units:
                return int(float(t[:-1]) * units[t[-1]])
            return int(float(t))
        except ValueError:
            raise ValueError(f"cannot read {text!r} as a size; write e.g. 2GB or 512MB") from None

    @staticmethod
    def field_docs() -> dict[str, str]:
        """Each parameter's one-line description (the docstring under its field), for help texts."""
        return _field_docs()


@lru_cache(maxsize=1)
def _field_docs() -> dict[str, str]:
    import ast
    import inspect
    import itertools
    import sys

    try:
        tree = ast.parse(inspect.getsource(sys.modules[__name__]))
    except (OSError, TypeError):  # pragma: no cover - source not shipped
        return {}
    docs: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Config":
            for stmt, nxt in itertools.pairwise(node.body):
                if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                        and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                        and isinstance(nxt.value.value, str)):
                    docs[stmt.target.id] = " ".join(nxt.value.value.replace("``", "").split())
    return docs
