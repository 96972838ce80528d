#!/usr/bin/env bash
# scripts/fetch_data.sh: downloads the official CIFAR-10 and CIFAR-100 binary archives, checks
# the MD5 sums their authors publish, and unpacks them where every freenas program looks by
# default (docs/DATA.md). ImageNet16-120 and ImageNet cannot be fetched by a script: the
# message at the end says where they come from and where to put them.
#   bash scripts/fetch_data.sh                 # into ~/.local/share/freenas/data
#   bash scripts/fetch_data.sh DIR             # into DIR (then: export FREENAS_DATA=DIR)
#   bash scripts/fetch_data.sh --check [DIR]   # only say what is there and what is missing
# Without network access it fails with the files to download by hand and where they go.
set -euo pipefail

check_only=0
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
dest=${1:-${XDG_DATA_HOME:-$HOME/.local/share}/freenas/data}

# name | archive | published MD5 | folder it unpacks to | file freenas reads
sets=(
  "cifar10|cifar-10-binary.tar.gz|c32a1d4ab5d03f1284b67883e8d87530|cifar-10-batches-bin|data_batch_1.bin"
  "cifar100|cifar-100-binary.tar.gz|03b5dce01913d631647c71ecec9e9cb8|cifar-100-binary|train.bin"
)
base_url=${FREENAS_CIFAR_URL:-https://www.cs.toronto.edu/~kriz}

have() { [ -f "$dest/$1/$2" ]; }

if [ "$check_only" = 1 ]; then
  for s in "${sets[@]}"; do
    IFS='|' read -r name archive md5 dir file <<<"$s"
    if have "$dir" "$file"; then echo "$name: present ($dest/$dir)"; else echo "$name: missing ($dest/$dir/$file)"; fi
  done
  exit 0
fi

fetch() { # url out
  if command -v curl >/dev/null 2>&1; then curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then wget -q --tries=2 --timeout=20 -O "$2" "$1"
  else echo "fetch_data: neither curl nor wget is installed (apt-get install curl)" >&2; return 1; fi
}

mkdir -p "$dest"
failed=0
for s in "${sets[@]}"; do
  IFS='|' read -r name archive md5 dir file <<<"$s"
  if have "$dir" "$file"; then echo "fetch_data: $name already in $dest/$dir"; continue; fi
  tmp="$dest/$archive.part"
  echo "fetch_data: downloading $base_url/$archive"
  if ! fetch "$base_url/$archive" "$tmp"; then
    rm -f "$tmp"
    cat >&2 <<MSG
fetch_data: could not download $archive (no network, or the server refused).
  By hand: download $base_url/$archive on a machine with network access, check
  md5sum $archive = $md5, and unpack it with  tar -xzf $archive -C $dest
  (freenas then reads $dest/$dir/$file), or unpack it anywhere and
  export FREENAS_DATA=<that folder>  or pass --data <that folder>.
MSG
    failed=1; continue
  fi
  got=$(md5sum "$tmp" | cut -d' ' -f1)
  if [ "$got" != "$md5" ]; then
    echo "fetch_data: $archive has MD5 $got, expected $md5 (published with the data): a damaged or different file; removed" >&2
    rm -f "$tmp"; failed=1; continue
  fi
  tar -xzf "$tmp" -C "$dest"
  rm -f "$tmp"
  have "$dir" "$file" || { echo "fetch_data: $archive did not unpack to $dir/$file" >&2; failed=1; continue; }
  echo "fetch_data: $name ready in $dest/$dir"
done

cat <<MSG

Data root: $dest
  freenas finds it without flags when it is ~/.local/share/freenas/data; otherwise
  export FREENAS_DATA=$dest
ImageNet16-120 (NAS-Bench-201's down-sampled ImageNet, 16x16, 120 classes) is not
downloadable by script: get the down-sampled ImageNet 16x16 files from the ImageNet site
(image-net.org, "Downsampled ImageNet", after registering), build the 120-class subset with
NAS-Bench-201's procedure, and write it as CIFAR-like records (docs/DATA.md), into
$dest/imagenet16-120/. ImageNet-224 (DARTS search at 224x224) likewise comes from
image-net.org; docs/DATA.md gives the file layout freenas reads.
The NB201 accuracy tables ship with freenas (data/nb201/); nothing to fetch for them.
MSG
exit $failed
