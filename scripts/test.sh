#!/usr/bin/env bash
# Build lrpx and run every test suite: once as a normal build (the Check
# programs, the Python package's pytest suite, the PyTorch walkthrough, the
# man pages and an install into a temporary DESTDIR), once under
# AddressSanitizer + UndefinedBehaviorSanitizer (the C tests); then the
# threads suite alone under ThreadSanitizer. Ends with one line
# "N passed, N failed" (Check test cases and pytest tests over all suites
# and builds).
#   scripts/test.sh              normal + ASan/UBSan + TSan (threads, batch_cli)
#   scripts/test.sh --quick      normal build only
#   scripts/test.sh --valgrind   normal build under valgrind (slow)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-all}

jobs=$(nproc 2>/dev/null || echo 2)
status=0
passed=0
failed=0

# Sum the Check summaries ("NN%: Checks: C, Failures: F, Errors: E") of a
# meson test log, one block per test program. A program that printed no
# summary counts as one test: passed if it exited 0, failed otherwise. The
# conformance program runs every ONNX backend test inside one Check test and
# prints "conformance: N tests: P passed, F failed, S skipped": its P and F
# are counted instead; so are the tests of pytest's closing line
# ("25 passed, 1 failed in 3.2s", the Python package).
count_log() {
  local log=$1 p f
  [ -f "$log" ] || { failed=$((failed + 1)); return; }
  read -r p f < <(awk '
    function flush() { if (inblk) { if (have) { P += c - fl - e; F += fl + e } else if (ok) P++; else F++ } }
    /^=+ [0-9]+\/[0-9]+ =+$/ { flush(); inblk = 1; have = 0; ok = 0; conf = 0; next }
    inblk && /^result: +exit status 0$/ { ok = 1 }
    inblk && !conf && match($0, /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/) {
      split(substr($0, RSTART, RLENGTH), a, /[^0-9]+/); c = a[2]; fl = a[3]; e = a[4]; have = 1 }
    inblk && match($0, /^conformance: [0-9]+ tests: [0-9]+ passed, [0-9]+ failed/) {
      split(substr($0, RSTART, RLENGTH), a, /[^0-9]+/); c = a[3] + a[4]; fl = a[4]; e = 0; have = 1; conf = 1 }
    inblk && /^(=+ )?[0-9]+ (passed|failed|errors?)(, [0-9]+ [a-z]+)* in [0-9.]+s/ {
      c = 0; fl = 0; e = 0; have = 1
      n = split($0, w, /[ ,=]+/)
      for (i = 1; i < n; i++) if (w[i] ~ /^[0-9]+$/) {
        if (w[i+1] == "passed") c += w[i]
        else if (w[i+1] == "failed") { c += w[i]; fl += w[i] }
        else if (w[i+1] ~ /^errors?$/) { c += w[i]; e += w[i] } } }
    END { flush(); print P + 0, F + 0 }' "$log")
  passed=$((passed + p))
  failed=$((failed + f))
}

run_build() {
  local dir=$1; shift
  local setup_args=("$@")
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "${setup_args[@]}" >/dev/null || { echo "meson setup $dir failed"; status=1; failed=$((failed+1)); return; }
  fi
  ninja -C "$dir" >/dev/null || { ninja -C "$dir" | tail -30; echo "build $dir failed"; status=1; failed=$((failed+1)); return; }
  meson test -C "$dir" --num-processes "$jobs" --print-errorlogs \
    ${CK_TIMEOUT_MULTIPLIER:+--timeout-multiplier "$CK_TIMEOUT_MULTIPLIER"} "${test_args[@]}" || status=1
  count_log "$dir/meson-logs/testlog${log_suffix}.txt"
}

# The threads suite under ThreadSanitizer, and batch_cli (lrpx batch's
# decoder and worker threads): only their programs are built (a whole TSan
# build would double the CI time) and any race report ends the test with an
# error (halt_on_error).
run_tsan() {
  local dir=build-tsan
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debug >/dev/null ||
      { echo "meson setup $dir failed"; status=1; failed=$((failed+1)); return; }
  fi
  local targets=(tests/test_threads src/cli/lrpx tests/test_batch_cli)
  ninja -C "$dir" "${targets[@]}" >/dev/null ||
    { ninja -C "$dir" "${targets[@]}" | tail -30; echo "build $dir failed"; status=1; failed=$((failed+1)); return; }
  CK_TIMEOUT_MULTIPLIER=4 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    meson test -C "$dir" --no-rebuild --print-errorlogs --suite threads --suite batch_cli || status=1
  count_log "$dir/meson-logs/testlog.txt"
}

test_args=()
log_suffix=""
case "$mode" in
  --valgrind)
    test_args=(--setup=valgrind)
    log_suffix="-valgrind"
    run_build build
    ;;
  --quick)
    run_build build
    ;;
  *)
    run_build build
    # sanitized code runs several times slower: Check's per-test timeouts
    # (and meson's) stretch accordingly, so a busy machine is not a failure
    CK_TIMEOUT_MULTIPLIER=4 \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
    run_tsan
    ;;
esac

echo "$passed passed, $failed failed"
exit $status
