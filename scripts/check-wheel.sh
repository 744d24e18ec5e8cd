#!/usr/bin/env bash
# Build the sdist and wheel as a release would, install the wheel alone (not the checkout) into a
# fresh virtual environment outside the repository, and run the commands a new user runs first.
# Catches what an editable install hides: a module or data file missing from the package.
# Usage: scripts/check-wheel.sh [python]   (default: .venv/bin/python, which must have `build`)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-.venv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# No --sdist/--wheel flags: build makes the sdist, then the wheel from the unpacked sdist, so a file
# missing from the sdist fails here too, and no build/ folder of stale files is left in the checkout.
"$python" -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheels=("$work"/dist/*.whl)
sdists=("$work"/dist/*.tar.gz)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] && [ -f "${sdists[0]}" ] || { echo "expected one wheel and one sdist"; exit 1; }
# Listings go to files first: `| grep -q` would stop reading early and fail the pipe under pipefail.
tar -tzf "${sdists[0]}" >"$work/sdist.txt" && "$python" -m zipfile -l "${wheels[0]}" >"$work/wheel.txt"
grep -q '/LICENSE$' "$work/sdist.txt" || { echo "the sdist has no LICENSE"; exit 1; }
grep -q 'dist-info/.*LICENSE' "$work/wheel.txt" || { echo "the wheel has no LICENSE"; exit 1; }
grep -q 'ncr_provider/emulator/data/default.json' "$work/wheel.txt" || { echo "the wheel has no emulator data"; exit 1; }

python3.11 -m venv "$work/venv"
"$work/venv/bin/pip" install -q "${wheels[0]}"
# Run from the empty work directory, so nothing can be imported from the checkout.
cd "$work"
"$work/venv/bin/ncr-image" --version
"$work/venv/bin/ncr-image" demo >"$work/demo.log" || { cat "$work/demo.log"; exit 1; }
grep -q "ncpdocker" "$work/demo.log" || { echo "demo printed no sample image"; cat "$work/demo.log"; exit 1; }
"$work/venv/bin/ncr-image" emulator --help >/dev/null
"$work/venv/bin/python" -c "import ncr_provider, sys; sys.exit(0 if '$work/venv' in ncr_provider.__file__ else 1)"
echo "wheel check passed: $(basename "${wheels[0]}")"
