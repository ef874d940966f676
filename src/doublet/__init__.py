"""doublet: find reused text in large document collections — near-duplicate documents and reprinted passages.

Quick use::

    import doublet
    result = doublet.find([("a", text_a), ("b", text_b)])      # or doublet.find_files(["corpus.jsonl"])
    result.pairs            # PairResult(a, b, kind, jaccard, containment_a, containment_b, passages)
    result.cluster_of()     # {doc id: cluster id}
    result.write("out/")    # pairs.jsonl, clusters.jsonl, summary.json
"""

__version__ = "0.1.0"

from .align import Passage  # noqa: E402
from .analysis import PairResult  # noqa: E402
from .api import compare, dedup_passages, find, find_files  # noqa: E402
from .config import Config  # noqa: E402
from .documents import Document, InputProblem, read_documents  # noqa: E402
from .index import Index  # noqa: E402
from .result import Result  # noqa: E402

__all__ = ["Config", "Document", "Index", "InputProblem", "PairResult", "Passage", "Result", "__version__", "compare",
           "dedup_passages", "find", "find_files", "read_documents"]
