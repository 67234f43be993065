#!/bin/sh
# Copyright (c) 2026 The kovs authors.
#
# Licensed under the Apache License, Version 2.0.
#
# Runs kovs's fuzz targets (built by 'make fuzz' in BUILD-DIR) for SECONDS
# each (default 60), starting from the seed corpora checked in next to this
# script.  New inputs go to BUILD-DIR/fuzz/corpus-NAME, so the seeds stay
# as they are and a longer run resumes from what earlier runs found; a
# crashing input is saved as BUILD-DIR/fuzz/crash-NAME-*.  Prints one line
# per target, "fuzz NAME: ok (N inputs run)" or "fuzz NAME: FAILED ...",
# and exits 1 if any target crashed.
#
#   tests/fuzz/run.sh BUILD-DIR [SECONDS [TARGET...]]
#
# Extra libFuzzer options may be given in FUZZ_OPTIONS, for example
# FUZZ_OPTIONS='-jobs=2 -workers=2' for a long run on two cores.

set -u
if [ $# -lt 1 ]; then
    sed -n '5,19p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
build=$(cd "$1" && pwd) || exit 2
seconds=${2:-60}
[ $# -ge 2 ] && shift 2 || shift $#
targets=${*:-state watch}
here=$(cd "$(dirname "$0")" && pwd)
work=$build/fuzz
mkdir -p "$work"

status=0
for t in $targets; do
    prog=$build/tests/fuzz/fuzz-$t
    if [ ! -x "$prog" ]; then
        echo "fuzz $t: FAILED ($prog is missing: run 'make fuzz')"
        status=1
        continue
    fi
    mkdir -p "$work/corpus-$t"
    log=$work/fuzz-$t.log
    ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        "$prog" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -dict="$here/k8s.dict" -artifact_prefix="$work/crash-$t-" \
        -print_final_stats=1 ${FUZZ_OPTIONS:-} \
        "$work/corpus-$t" "$here/corpus-$t" > "$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "fuzz $t: ok (${runs:-?} inputs run in ${seconds} s)"
    else
        echo "fuzz $t: FAILED (exit $rc), see $log:"
        grep -E '^==[0-9]+==ERROR|runtime error|SUMMARY|Test unit written' \
            "$log" | head -5 | sed 's/^/    /'
        status=1
    fi
done
exit $status
