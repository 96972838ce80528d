#!/usr/bin/env bash
# tests/install/fetch_data.sh: scripts/fetch_data.sh against a local "mirror" (file:// URL):
# an archive whose MD5 is not the published one is refused and removed, nothing is unpacked,
# the exit code is 1 and the message names both sums; --check reports what is missing.
set -euo pipefail
script=$(cd "$(dirname "$0")/../../scripts" && pwd)/fetch_data.sh
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/mirror/cifar-10-batches-bin" "$tmp/mirror/cifar-100-binary"
echo "not the real data" > "$tmp/mirror/cifar-10-batches-bin/data_batch_1.bin"
echo "not the real data" > "$tmp/mirror/cifar-100-binary/train.bin"
tar -czf "$tmp/mirror/cifar-10-binary.tar.gz" -C "$tmp/mirror" cifar-10-batches-bin
tar -czf "$tmp/mirror/cifar-100-binary.tar.gz" -C "$tmp/mirror" cifar-100-binary
set +e
FREENAS_CIFAR_URL="file://$tmp/mirror" bash "$script" "$tmp/data" > "$tmp/out" 2>&1; rc=$?
set -e
cat "$tmp/out"
[ "$rc" -eq 1 ] || { echo "FAIL: exit $rc, expected 1"; exit 1; }
grep -q "expected c32a1d4ab5d03f1284b67883e8d87530" "$tmp/out" || { echo "FAIL: no MD5 message"; exit 1; }
[ ! -e "$tmp/data/cifar-10-batches-bin" ] || { echo "FAIL: a bad archive was unpacked"; exit 1; }
[ -z "$(ls "$tmp/data")" ] || { echo "FAIL: files left behind: $(ls "$tmp/data")"; exit 1; }
# the output is kept, not piped: grep -q stops reading at the first match, and under pipefail
# the writer's SIGPIPE failed the pipeline whenever it had more to write
bash "$script" --check "$tmp/data" > "$tmp/check" 2>&1 || { echo "FAIL: --check exit $?"; exit 1; }
grep -q "cifar10: missing" "$tmp/check" || { echo "FAIL: --check: $(cat "$tmp/check")"; exit 1; }
echo "fetch_data: bad archives refused"
