#!/usr/bin/env bash
# Fetch the data the assignment uses into data/ and images/.
#
#   bash scripts/get_data.sh [PART ...]      PART: nist36 images mnist emnist flowers weights
#                                            (default: all of them)
#
# Two sources:
#   * HW5_MIRROR=DIR   link or copy from a local mirror laid out like ../shared
#                      (used on machines without internet, and by CI);
#   * otherwise        download the official URLs with wget or curl.
# Parts already in place are kept as they are (pass --force to fetch again),
# so nothing you put in data/ is overwritten by accident.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
IMAGES="$ROOT/images"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
FORCE=0

COURSE_URL="http://www.cs.cmu.edu/~lkeselma/16720a_data"
MNIST_URL="https://ossci-datasets.s3.amazonaws.com/mnist"
EMNIST_URL="https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
FLOWERS_URL="https://www.robots.ox.ac.uk/~vgg/data/flowers/17/17flowers.tgz"

MNIST_FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
EMNIST_FILES="emnist-balanced-train-images-idx3-ubyte emnist-balanced-train-labels-idx1-ubyte emnist-balanced-test-images-idx3-ubyte emnist-balanced-test-labels-idx1-ubyte"
SAMPLE_IMAGES="01_list.jpg 02_letters.jpg 03_haiku.jpg 04_deep.jpg"
FLOWER_NAMES="daffodil snowdrop lilyvalley bluebell crocus iris tigerlily tulip fritillary sunflower daisy coltsfoot dandelion cowslip buttercup windflower pansy"
SQUEEZENET_FILE="squeezenet1_0-deepcompression-imagenet.pth"

say() { printf '[get_data] %s\n' "$*"; }

fail() {
  cat >&2 <<EOF
[get_data] ERROR: $*

There are two ways to get the data:
  1. On a machine with internet access, run this script as it is; it downloads
     the official files (course data, MNIST, EMNIST, Oxford Flowers 17).
  2. Without internet, point HW5_MIRROR at a local mirror (laid out like
     ../shared on the course machines) and it links or copies from there:
       HW5_MIRROR=../shared bash scripts/get_data.sh
EOF
  exit 1
}

# ---------------------------------------------------------------- sources
MIRROR=""
if [ -n "${HW5_MIRROR:-}" ]; then
  # A relative HW5_MIRROR may be meant from where the user stands or from the repo root.
  for base in "$PWD" "$ROOT"; do
    case "$HW5_MIRROR" in /*) cand="$HW5_MIRROR" ;; *) cand="$base/$HW5_MIRROR" ;; esac
    if [ -d "$cand" ]; then MIRROR="$(cd "$cand" && pwd)"; break; fi
  done
  [ -n "$MIRROR" ] || fail "HW5_MIRROR=$HW5_MIRROR is not a folder (tried from $PWD and from $ROOT)."
  say "source: mirror $MIRROR"
else
  say "source: official URLs (set HW5_MIRROR to use a local mirror)"
fi

download() {  # download URL FILE
  say "downloading $1"
  if command -v wget >/dev/null 2>&1; then
    wget -q --tries=2 --timeout=30 -O "$2.part" "$1" || { rm -f "$2.part"; fail "could not download $1"; }
  elif command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 --connect-timeout 30 -o "$2.part" "$1" || { rm -f "$2.part"; fail "could not download $1"; }
  else
    fail "neither wget nor curl is installed, so $1 cannot be downloaded."
  fi
  mv "$2.part" "$2"
}

mirror_file() {  # mirror_file RELATIVE_PATH -> absolute path in the mirror, or fail
  [ -e "$MIRROR/$1" ] || fail "the mirror $MIRROR has no $1."
  printf '%s' "$MIRROR/$1"
}

have_all() {  # have_all DIR FILE... : true when every file exists and is non-empty
  local dir="$1"; shift
  for f in "$@"; do [ -s "$dir/$f" ] || return 1; done
}

already() {  # already DIR FILE... : in place, and no --force to fetch again
  [ "$FORCE" != 1 ] && have_all "$@"
}

# Extract NAME.gz into DIR/NAME (torchvision reads the extracted IDX files).
gunzip_into() { gzip -dc "$1" > "$2/$(basename "$1" .gz).part" && mv "$2/$(basename "$1" .gz).part" "$2/$(basename "$1" .gz)"; }

# ---------------------------------------------------------------- parts
# Download a course zip and move the named files out of it into DEST.
fetch_from_zip() {  # fetch_from_zip URL DEST FILE...
  local url="$1" dest="$2"; shift 2
  local tmp; tmp="$(mktemp -d)"
  download "$url" "$tmp/archive.zip"
  unzip -q -o "$tmp/archive.zip" -d "$tmp/x"
  for f in "$@"; do
    src="$(find "$tmp/x" -name "$f" | head -n 1)"
    [ -n "$src" ] || fail "$(basename "$url") has no $f."
    mv "$src" "$dest/$f"
  done
  rm -rf "$tmp"
}

# Link FILE... from the mirror folder SUB into DEST.
link_from_mirror() {  # link_from_mirror SUB DEST FILE...
  local sub="$1" dest="$2"; shift 2
  for f in "$@"; do ln -sfn "$(mirror_file "$sub/$f")" "$dest/$f"; done
}

# The course's own files: data.zip (NIST36) and images.zip (the Q4 photos).
get_course_files() {  # get_course_files PART DEST ZIP MIRROR_SUBFOLDER FILE...
  local part="$1" dest="$2" zip="$3" sub="$4"; shift 4
  if already "$dest" "$@"; then say "$part: already in $(basename "$dest")/"; return; fi
  mkdir -p "$dest"
  if [ -n "$MIRROR" ]; then link_from_mirror "$sub" "$dest" "$@"
  else fetch_from_zip "$COURSE_URL/$zip" "$dest" "$@"; fi
  have_all "$dest" "$@" || fail "$part files are missing from $dest after fetching."
  say "$part: ok"
}

get_nist36() {
  get_course_files nist36 "$DATA" data.zip data nist36_train.mat nist36_valid.mat nist36_test.mat
}

get_images() {
  # shellcheck disable=SC2086
  get_course_files images "$IMAGES" images.zip images $SAMPLE_IMAGES
}

get_mnist() {
  local raw="$DATA/MNIST/raw"
  # shellcheck disable=SC2086
  if already "$raw" $MNIST_FILES; then say "mnist: already in data/MNIST/raw/"; return; fi
  mkdir -p "$raw"
  for f in $MNIST_FILES; do
    if [ -n "$MIRROR" ]; then gunzip_into "$(mirror_file "data/MNIST/raw/$f.gz")" "$raw"
    else download "$MNIST_URL/$f.gz" "$raw/$f.gz" && gunzip_into "$raw/$f.gz" "$raw"; fi
  done
  # shellcheck disable=SC2086
  have_all "$raw" $MNIST_FILES || fail "MNIST files are missing from $raw after fetching."
  say "mnist: ok"
}

get_emnist() {
  local raw="$DATA/EMNIST/raw"
  # shellcheck disable=SC2086
  if already "$raw" $EMNIST_FILES emnist-balanced-mapping.txt; then say "emnist: already in data/EMNIST/raw/"; return; fi
  mkdir -p "$raw"
  if [ -n "$MIRROR" ]; then
    for f in $EMNIST_FILES; do gunzip_into "$(mirror_file "data/EMNIST/raw/$f.gz")" "$raw"; done
    cp -f "$(mirror_file data/EMNIST/raw/emnist-balanced-mapping.txt)" "$raw/"
  else
    # The official archive holds every EMNIST split (about 560 MB); keep only "balanced".
    local tmp; tmp="$(mktemp -d)"
    download "$EMNIST_URL" "$tmp/gzip.zip"
    unzip -q -j -o "$tmp/gzip.zip" 'gzip/emnist-balanced-*' -d "$tmp"
    for f in $EMNIST_FILES; do gunzip_into "$tmp/$f.gz" "$raw"; done
    mv "$tmp/emnist-balanced-mapping.txt" "$raw/"
    rm -rf "$tmp"
  fi
  # shellcheck disable=SC2086
  have_all "$raw" $EMNIST_FILES emnist-balanced-mapping.txt || fail "EMNIST files are missing from $raw after fetching."
  say "emnist: ok"
}

get_flowers() {
  local dest="$DATA/oxford-flowers17"
  if already "$dest" classes.txt && [ -d "$dest/train/0" ]; then say "flowers: already in data/oxford-flowers17/"; return; fi
  mkdir -p "$DATA"
  if [ -n "$MIRROR" ]; then
    rm -f "$dest"  # a stale link, never a folder of the user's (rm -f does not remove folders)
    [ -e "$dest" ] && fail "$dest exists but is incomplete; move it away and run again."
    ln -sfn "$(mirror_file data/oxford-flowers17)" "$dest"
  else
    # The archive holds jpg/image_0001.jpg ... image_1360.jpg, 80 per class in
    # class order. scripts/flowers17_split.csv fixes the train/val/test split
    # (40/20/20 per class), the same one as the offline mirror.
    local tmp; tmp="$(mktemp -d)"
    download "$FLOWERS_URL" "$tmp/17flowers.tgz"
    tar -xzf "$tmp/17flowers.tgz" -C "$tmp"
    tail -n +2 "$ROOT/scripts/flowers17_split.csv" | while IFS=, read -r file label split; do
      mkdir -p "$dest/$split/$label"
      mv "$tmp/jpg/$file" "$dest/$split/$label/$file"
    done
    i=0; : > "$dest/classes.txt"
    for name in $FLOWER_NAMES; do echo "$i $name" >> "$dest/classes.txt"; i=$((i + 1)); done
    rm -rf "$tmp"
  fi
  [ -d "$dest/train/0" ] && [ -s "$dest/classes.txt" ] || fail "Oxford Flowers 17 is incomplete in $dest after fetching."
  say "flowers: ok"
}

get_weights() {
  # SqueezeNet for Q7.2. On a connected machine torchvision downloads its own
  # squeezenet1_1 weights when run_q7_2.py first asks for them; the mirror has
  # SqueezeNet 1.0 weights instead, which run_q7_2.py picks up from data/weights/.
  local dest="$DATA/weights"
  if already "$dest" "$SQUEEZENET_FILE"; then say "weights: already in data/weights/"; return; fi
  if [ -n "$MIRROR" ]; then
    mkdir -p "$dest"
    ln -sfn "$(mirror_file "weights/$SQUEEZENET_FILE")" "$dest/$SQUEEZENET_FILE"
    say "weights: ok ($SQUEEZENET_FILE)"
  elif [ -x "$PYTHON" ]; then
    say "weights: asking torchvision for squeezenet1_1 ImageNet weights"
    "$PYTHON" -c "import torchvision; torchvision.models.squeezenet1_1(weights='DEFAULT')" \
      || fail "torchvision could not download the squeezenet1_1 weights."
    say "weights: ok (squeezenet1_1, in torch's cache)"
  else
    say "weights: skipped (no $PYTHON yet; run_q7_2.py downloads them when it first runs)"
  fi
}

# ---------------------------------------------------------------- main
PARTS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    nist36|images|mnist|emnist|flowers|weights) PARTS+=("$arg") ;;
    all) PARTS+=(nist36 images mnist emnist flowers weights) ;;
    *) echo "unknown part '$arg'; choose from: nist36 images mnist emnist flowers weights all" >&2; exit 2 ;;
  esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(nist36 images mnist emnist flowers weights)

for part in "${PARTS[@]}"; do "get_$part"; done
say "done: ${PARTS[*]}"
