#!/usr/bin/env bash
# A new user's first hour: every command of README.md's quick start and tour, each checked for its exit code
# and its output (the seed pair's ids, the removed copy, the server's answer ...).
#
#   bench/first_hour.sh SCRATCH            fresh clone of this repository's HEAD into SCRATCH/doublet, then
#                                          `make demo` (a fresh .venv, core only), then the serve extra (and
#                                          the spark extra when Java is installed), then the tour
#   bench/first_hour.sh --quick SCRATCH    the tour only, in SCRATCH, with an existing venv (--venv DIR,
#                                          default: this checkout's .venv) and without Spark: what CI runs
#                                          (tests/test_first_hour.py)
#   options: --venv DIR, --no-spark, --spark (quick mode: run the Spark step too)
#
# `../shared` (the corpora beside the clone) is linked beside SCRATCH/doublet when it exists here, so the
# README's `eval` step runs as written; without it that step is skipped. Commands that are not in this build
# yet (`doublet compare`, `doublet show`: their `--help` fails) are skipped, not failed. `make test` is not run
# (CI runs it). Exit status: 0 when every check passed (skips allowed), 1 otherwise; a summary is printed last.
#
# tests/test_first_hour.py checks that every shell command of the README's quick start and tour appears in
# this file, verbatim (as a command or, where this script must vary it, in a `# README:` comment).
set -uo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
QUICK=0 SPARK=auto VENV="" SCRATCH=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --venv) VENV="$2"; shift ;;
        --no-spark) SPARK=no ;;
        --spark) SPARK=yes ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        -*) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
        *) SCRATCH="$1" ;;
    esac
    shift
done
if [ -z "$SCRATCH" ]; then
    echo "error: give a scratch folder, e.g. bench/first_hour.sh /tmp/first-hour (see --help)" >&2; exit 2
fi
mkdir -p "$SCRATCH" && SCRATCH="$(cd "$SCRATCH" && pwd)"
LOGS="$SCRATCH/logs"; rm -rf "$LOGS"; mkdir -p "$LOGS"
PASS=0 FAIL=0 SKIP=0 FAILED=()
SEED_A=000_b11279ffa2e6de7c.txt SEED_B=003_f7c337c5b85d0f0e.txt

ok()   { PASS=$((PASS + 1)); printf '  ok    %s\n' "$1"; }
bad()  { FAIL=$((FAIL + 1)); FAILED+=("$1"); printf '  FAIL  %s: %s (logs: %s/%s.*)\n' "$1" "$2" "$LOGS" "$1"; }
skip() { SKIP=$((SKIP + 1)); printf '  skip  %s: %s\n' "$1" "$2"; }

# run NAME CMD...: runs CMD with stdout/stderr in $LOGS/NAME.out/.err; fails NAME on a non-zero exit.
run() {
    local name="$1"; shift
    "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
    local rc=$?
    if [ $rc -ne 0 ]; then bad "$name" "exit status $rc: $(tail -n 3 "$LOGS/$name.err" | tr '\n' ' ')"; return 1; fi
    return 0
}
# expect NAME FILE PATTERN...: NAME passes when FILE holds every (fixed-string) PATTERN.
expect() {
    local name="$1" file="$2"; shift 2
    local p
    for p in "$@"; do
        if ! grep -qF -- "$p" "$file" 2>/dev/null; then bad "$name" "no '$p' in $file"; return 1; fi
    done
    ok "$name"
}

# ------------------------------------------------------------------------------------------ quick start
if [ $QUICK -eq 1 ]; then
    echo "first hour (quick): the README's tour in $SCRATCH"
    VENV="${VENV:-$ROOT/.venv}"
    if [ ! -x "$VENV/bin/doublet" ]; then
        echo "error: no doublet in $VENV (give --venv DIR, or run make setup)" >&2; exit 2
    fi
    WORK="$SCRATCH/doublet"; rm -rf "$WORK"; mkdir -p "$WORK"
    ln -s "$ROOT/examples" "$WORK/examples"
    cd "$WORK" || exit 2
    # README: make demo   (quick mode runs the demo's command itself)
    # shellcheck disable=SC1091
    source "$VENV/bin/activate"
    run demo doublet find examples/seeds -o out/seeds && expect demo out/seeds/pairs.jsonl "\"a\": \"$SEED_A\"" "\"b\": \"$SEED_B\"" '"kind": "reuse"'
    [ "$SPARK" = yes ] || SPARK=no
else
    echo "first hour: a fresh clone of $ROOT in $SCRATCH/doublet"
    rm -rf "$SCRATCH/doublet"
    run clone git clone -q "$ROOT" "$SCRATCH/doublet" && ok clone || { echo "cannot clone" >&2; exit 1; }
    cd "$SCRATCH/doublet" || exit 2
    run make-demo make demo && expect make-demo "$LOGS/make-demo.out" "\"a\": \"$SEED_A\"" "\"b\": \"$SEED_B\"" '"kind": "reuse"' ".venv/bin/doublet"
    # shellcheck disable=SC1091
    source .venv/bin/activate
    [ "$(command -v doublet)" = "$PWD/.venv/bin/doublet" ] && ok "source .venv/bin/activate" || bad "source .venv/bin/activate" "doublet is $(command -v doublet)"
    run install-serve pip install -q -e '.[serve]' && ok "pip install -e '.[serve]'"
    if [ "$SPARK" != no ] && command -v java >/dev/null 2>&1; then
        run install-spark pip install -q -e '.[spark]' && ok "pip install -e '.[spark]'"
        SPARK=yes
    else
        [ "$SPARK" = yes ] && { skip spark "no java"; }
        SPARK=no
    fi
    skip "make test" "10-15 minutes; CI runs it"
fi
if [ -d "$ROOT/../shared" ] && [ ! -e "$SCRATCH/shared" ]; then ln -s "$(cd "$ROOT/../shared" && pwd)" "$SCRATCH/shared"; fi
mkdir -p out

# ------------------------------------------------------------------------------------------ tour
echo "tour:"
run find-help doublet find --help && expect find-help "$LOGS/find-help.out" "--id-field" "--threshold"

# compare, show: being added; skipped while `--help` fails
if doublet compare --help >/dev/null 2>&1; then
    run compare doublet compare examples/seeds/000_b11279ffa2e6de7c.txt examples/seeds/003_f7c337c5b85d0f0e.txt \
        && expect compare "$LOGS/compare.out" "reuse"
    run compare-json doublet compare --json examples/seeds/000_b11279ffa2e6de7c.txt examples/seeds/003_f7c337c5b85d0f0e.txt \
        && expect compare-json "$LOGS/compare-json.out" '"reuse"' "0.2559"
else
    skip compare "doublet compare --help fails: not in this build"
fi
if doublet show --help >/dev/null 2>&1; then
    run show doublet show out/seeds --pair 000_b11279ffa2e6de7c.txt 003_f7c337c5b85d0f0e.txt \
        && expect show "$LOGS/show.out" "During the talks"
else
    skip show "doublet show --help fails: not in this build"
fi

run dedup-prepare bash -c 'mkdir -p out/corpus && cp examples/seeds/*.txt out/corpus/ && cp examples/seeds/000_b11279ffa2e6de7c.txt out/corpus/copy.txt'
# README: mkdir -p out/corpus && cp examples/seeds/*.txt out/corpus/ && cp examples/seeds/000_b11279ffa2e6de7c.txt out/corpus/copy.txt
if run dedup doublet dedup out/corpus -o out/deduped; then
    kept="$(cd out/deduped/corpus 2>/dev/null && ls | tr '\n' ' ')"
    if [ "$kept" = "$SEED_A $SEED_B " ]; then
        expect dedup out/deduped/removed.jsonl '"id": "copy.txt"' "\"kept\": \"$SEED_A\""
    else
        bad dedup "out/deduped/corpus/ holds '$kept', not the two seeds"
    fi
fi

run dedup-passages doublet dedup out/corpus -o out/passages --passages \
    && expect dedup-passages out/passages/removed_spans.jsonl '"id": "copy.txt"' "\"kept\": \"$SEED_A\""
run against doublet find examples/seeds/003_f7c337c5b85d0f0e.txt --against examples/seeds/000_b11279ffa2e6de7c.txt -o out/against \
    && expect against out/against/against.jsonl '"found_share"' "\"reference\": \"examples/seeds/$SEED_A\""

run report doublet report out/seeds -o out/seeds/report.html && expect report out/seeds/report.html "$SEED_A" "$SEED_B" "<html"

run index-create doublet index create out/news.idx && ok index-create
run index-add doublet index add out/news.idx examples/seeds && expect index-add "$LOGS/index-add.err" "2 added"
run index-query doublet index query out/news.idx out/corpus -o out/query \
    && expect index-query out/query/matches.jsonl '"query": "copy.txt"' "\"match\": \"$SEED_A\"" '"kind": "near-duplicate"'
run index-stats doublet index stats out/news.idx && expect index-stats "$LOGS/index-stats.out" '"documents": 2'
run index-templates doublet index templates out/news.idx && ok index-templates
run index-check doublet index check out/news.idx && expect index-check "$LOGS/index-check.out" '"ok": true'

# serve: on a free port instead of the README's 8000 (another server may hold it); requests by Python's urllib,
# as curl does them (curl need not be installed)
# README: doublet serve out/news.idx --port 8000
# README: curl -s -X POST localhost:8000/search -H 'content-type: application/json' -d '{"id": "003_f7c337c5b85d0f0e.txt"}'
if python -c 'import fastapi, uvicorn' 2>/dev/null; then
    http() {  # http METHOD PATH [JSON BODY]: the body of the answer on stdout; non-zero unless 2xx
        python - "$PORT" "$@" <<'EOF'
import sys, urllib.request
port, method, path = sys.argv[1:4]
data = sys.argv[4].encode() if len(sys.argv) > 4 else None
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                             headers={"content-type": "application/json"})
with urllib.request.urlopen(req, timeout=30) as r:
    sys.stdout.write(r.read().decode())
EOF
    }
    PORT="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    doublet serve out/news.idx --port "$PORT" >"$LOGS/serve.out" 2>"$LOGS/serve.err" &
    SERVE_PID=$!
    trap 'kill "$SERVE_PID" 2>/dev/null' EXIT
    for _ in $(seq 150); do http GET "/health" >"$LOGS/serve-health.out" 2>/dev/null && break; sleep 0.2; done
    if expect serve-health "$LOGS/serve-health.out" '"status":"ok"' '"documents":2'; then
        http POST /search '{"id": "003_f7c337c5b85d0f0e.txt"}' >"$LOGS/serve-search.out" 2>"$LOGS/serve-search.err"
        expect serve-search "$LOGS/serve-search.out" "\"match\":\"$SEED_A\"" '"kind":"reuse"'
        http GET / >"$LOGS/serve-page.out" 2>&1
        expect serve-page "$LOGS/serve-page.out" "<html"
    fi
    kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null; trap - EXIT
else
    bad serve "the serve extra is not installed in this venv (pip install -e '.[serve]')"
fi

if [ "$SPARK" = yes ]; then
    if run spark doublet find --engine spark examples/seeds -o out/spark; then
        cmp -s out/spark/pairs.jsonl out/seeds/pairs.jsonl && ok "spark (same pairs.jsonl as find)" \
            || bad spark "out/spark/pairs.jsonl differs from out/seeds/pairs.jsonl"
    fi
else
    skip spark "quick mode, --no-spark or no java"
fi

if [ -f ../shared/bench/dev-popular/corpus.jsonl ]; then
    run eval-find doublet find ../shared/bench/dev-popular/corpus.jsonl -o out/dev-popular && ok eval-find
    if run eval doublet eval ../shared/bench/dev-popular out/dev-popular; then
        python - "$LOGS/eval.out" <<'EOF' >"$LOGS/eval-f1.out" 2>&1 && ok "eval (F1 >= 0.95)" || bad eval "$(cat "$LOGS/eval-f1.out")"
import json, sys
f1 = json.load(open(sys.argv[1]))["f1"]
print(f"F1 {f1}")
sys.exit(0 if f1 >= 0.95 else 1)
EOF
    fi
else
    skip eval "../shared is not beside the clone"
fi

# the README's Python lines, on the seeds
run python python - <<'EOF' && expect python "$LOGS/python.out" "000_b11279ffa2e6de7c.txt 003_f7c337c5b85d0f0e.txt reuse" "compare reuse"
import doublet
from pathlib import Path
text_a = Path("examples/seeds/000_b11279ffa2e6de7c.txt").read_text(encoding="utf-8")
text_b = Path("examples/seeds/003_f7c337c5b85d0f0e.txt").read_text(encoding="utf-8")
result = doublet.find([("000_b11279ffa2e6de7c.txt", text_a), ("003_f7c337c5b85d0f0e.txt", text_b)])
for pair in result.pairs:
    print(pair.a, pair.b, pair.kind, pair.jaccard, [(p.a_start, p.a_end) for p in pair.passages])
print("compare", doublet.compare(text_a, text_b).kind)
EOF

echo "first hour: $PASS passed, $FAIL failed, $SKIP skipped (logs in $LOGS)"
if [ $FAIL -gt 0 ]; then printf '  failed: %s\n' "${FAILED[@]}"; exit 1; fi
exit 0
