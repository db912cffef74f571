#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS (default 60) seconds, one after another, each
# starting from its seed inputs in seeds/<target>/ and with its dictionary dicts/<target>.dict
# (the working corpus grows in corpus/<target>/, which git ignores). A target that finds a
# crash leaves the input in artifacts/<target>/ and its log in logs/<target>.log; the
# others still run, and the script exits 1 at the end.
#
#   FUZZ_SECONDS=120 bash fuzz/run-all.sh            # all targets
#   bash fuzz/run-all.sh ws_frame report_body        # only these
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${FUZZ_SECONDS:-60}"
# The machine is shared and small: one compile job, one fuzzing process.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "run-all.sh: needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "run-all.sh: needs cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    exit 2
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

echo "== building the fuzz targets"
cargo +nightly fuzz build 2>&1 | tail -n 3
mkdir -p logs
failed=()
for target in "${targets[@]}"; do
    echo "== ${target}: ${seconds} s"
    mkdir -p "corpus/${target}"
    rm -f fuzz-0.log
    status=0
    # -jobs=1 runs the fuzzer in one worker process whose output goes to fuzz-0.log.
    dict=()
    if [ -f "dicts/${target}.dict" ]; then dict=("-dict=dicts/${target}.dict"); fi
    cargo +nightly fuzz run "${target}" "corpus/${target}" "seeds/${target}" -- \
        -max_total_time="${seconds}" -jobs=1 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        >"logs/${target}.run.log" 2>&1 || status=$?
    if [ -f fuzz-0.log ]; then
        mv fuzz-0.log "logs/${target}.log"
    else
        cp "logs/${target}.run.log" "logs/${target}.log"
    fi
    grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|ERROR|SUMMARY|panicked|Test unit written' \
        "logs/${target}.log" || true
    if [ "${status}" -ne 0 ]; then
        grep -A2 -m1 'panicked at' "logs/${target}.log" >&2 || true
        echo "== ${target}: FAILED (exit ${status}); see fuzz/logs/${target}.log and fuzz/artifacts/${target}/" >&2
        failed+=("${target}")
    fi
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "== crashed: ${failed[*]}" >&2
    exit 1
fi
echo "== all ${#targets[@]} targets ran ${seconds} s each without a crash"
