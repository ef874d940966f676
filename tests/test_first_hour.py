"""A new user's first hour: bench/first_hour.sh runs the README's quick start and tour and checks each command.

CI runs its reduced form (``--quick``: this venv, no fresh clone, no Spark); the full form (a fresh clone in a
fresh venv) is ``make first-hour``. A second test keeps the script and the README in step: every shell command
of the README's quick start and tour must appear in the script.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "first_hour.sh"
README = ROOT / "README.md"


def readme_tour_commands() -> list[str]:
    """The shell command lines of the README's ```bash blocks from "## Quick start" up to "## Outputs", without
    their trailing comments."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index("\n## Quick start"), text.index("\n## Outputs")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text[start:end], flags=re.S):
        for line in block.splitlines():
            command = re.split(r"\s{2,}#", line)[0].strip()
            if command and not command.startswith("#"):
                commands.append(command)
    return commands


def test_every_readme_tour_command_is_in_first_hour_script():
    commands = readme_tour_commands()
    assert len(commands) >= 15 and "make demo" in commands and "doublet find examples/seeds -o out/seeds" in commands
    script = SCRIPT.read_text(encoding="utf-8")
    missing = [c for c in commands if c not in script and c.replace("make demo", "make-demo make demo") not in script]
    assert not missing, f"README commands that bench/first_hour.sh does not run: {missing}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_first_hour_quick(tmp_path):
    """The tour with this venv: every step passes; only steps not in this build (compare, show), Spark and, without
    ../shared, eval may be skipped."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "doublet").exists():
        pytest.skip(f"no doublet script in {venv}/bin (install doublet into this venv)")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    proc = subprocess.run(["bash", str(SCRIPT), "--quick", "--venv", str(venv), str(tmp_path / "scratch")],
                          capture_output=True, text=True, timeout=600, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert re.search(r"first hour: \d+ passed, 0 failed", out), out
    passed = {m.group(1) for m in re.finditer(r"^  ok    (\S+)", out, flags=re.M)}
    assert {"demo", "dedup", "report", "index-query", "serve-search", "python"} <= passed, out
    skipped = {m.group(1).rstrip(":") for m in re.finditer(r"^  skip  (\S+)", out, flags=re.M)}
    assert skipped <= {"compare", "show", "spark", "eval"}, out
