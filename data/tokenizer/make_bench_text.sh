#!/usr/bin/env bash
# Builds a benchmark/training text for the tokenizer from files a Debian/Ubuntu machine has:
# half English prose (the /usr/share/doc/*/copyright license texts), half Python source
# (/usr/lib/python3.*/**/*.py), each sorted by path. Not committed (it is machine-dependent);
# docs/perf.md records the size and the machine it was made on.
#   data/tokenizer/make_bench_text.sh OUT.txt SIZE_MB
set -eu  # no pipefail: head closing the pipe early is expected
out=$1
half=$(( $2 * 1000000 / 2 ))
{
  find /usr/share/doc -name copyright -type f | LC_ALL=C sort | xargs cat 2>/dev/null | head -c "$half"
  find /usr/lib/python3.* -name '*.py' -type f | LC_ALL=C sort | xargs cat 2>/dev/null | head -c "$half"
} > "$out"
wc -c "$out"
