"""Count the bad-input suite's cases by category (one test module per category).

    python bench/bad_inputs.py          # collect only: the counts, in a second or two
    python bench/bad_inputs.py --run    # run them too and count passed / failed per category

Categories are the modules of tests/bad_input (test_bad_<category>.py); a case is one
collected test (a row of a decision table, a fuzz target, or a single scenario).
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "tests" / "bad_input"
MODULE = re.compile(r"test_bad_(\w+)\.py::")
RESULT = re.compile(r"test_bad_(\w+)\.py::\S+ (PASSED|FAILED|SKIPPED|ERROR)")


def main(argv: list[str]) -> int:
    run = "--run" in argv
    args = [sys.executable, "-m", "pytest", str(SUITE), "-p", "no:cacheprovider"]
    args += ["-v", "-rN"] if run else ["--collect-only", "-q"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    counts: collections.Counter[str] = collections.Counter()
    outcomes: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in done.stdout.splitlines():
        if run:
            found = RESULT.search(line)
            if found:
                counts[found.group(1)] += 1
                outcomes[found.group(1)][found.group(2).lower()] += 1
        else:
            found = MODULE.search(line)
            if found:
                counts[found.group(1)] += 1
    if not counts:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
        return 1
    width = max(len(c) for c in counts)
    for category, count in sorted(counts.items()):
        detail = ""
        if run:
            detail = "  " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes[category].items()))
        print(f"{category:<{width}}  {count:>4}{detail}")
    print(f"{'total':<{width}}  {sum(counts.values()):>4}")
    return 0 if done.returncode == 0 else done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
