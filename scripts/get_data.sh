#!/usr/bin/env bash
# Fetch the data the assignment uses into data/ and images/.
#
#   bash scripts/get_data.sh [--force] [PART ...]   PART: nist36 images mnist emnist flowers weights
#                                                   pages (default: all of them)
# pages composes Q4's OCR validation pages from the NIST36 and EMNIST test
# splits once, into data/pages/ (python/make_pages.py --for-run-q4).
#
# Two sources:
#   * HW5_MIRROR=DIR   link or copy from a local mirror laid out like ../shared
#                      (used on machines without internet, and by CI);
#   * otherwise        download the official URLs with wget or curl.
# Every file is checked before it counts as there (python/check_data.py: the
# mirror's checksums, else loading it as the scripts do). A file in place that
# passes is kept. A file this script placed (a link into the mirror, or a file
# it fetched that nobody changed since) is fetched again when it is damaged,
# or when you pass --force. A file of yours is never replaced, with or without
# --force: if it is damaged, the script stops and says which one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/data"
IMAGES="$ROOT/images"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
FORCE=0
RECORD=.get_data.sha256   # in each folder: what this script wrote there (see record)

COURSE_URL="http://www.cs.cmu.edu/~lkeselma/16720a_data"
MNIST_URL="https://ossci-datasets.s3.amazonaws.com/mnist"
EMNIST_URL="https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
FLOWERS_URL="https://www.robots.ox.ac.uk/~vgg/data/flowers/17/17flowers.tgz"

NIST36_FILES="nist36_train.mat nist36_valid.mat nist36_test.mat"
MNIST_FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
EMNIST_FILES="emnist-balanced-train-images-idx3-ubyte emnist-balanced-train-labels-idx1-ubyte emnist-balanced-test-images-idx3-ubyte emnist-balanced-test-labels-idx1-ubyte"
EMNIST_MAPPING="emnist-balanced-mapping.txt"
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

# Temporary folders are removed however the script ends, a failed download included.
TMPS=()
cleanup() { [ ${#TMPS[@]} -eq 0 ] || rm -rf "${TMPS[@]}"; }
trap cleanup EXIT
new_tmp() { TMP="$(mktemp -d)"; TMPS+=("$TMP"); }  # sets TMP (a subshell would lose TMPS)

# ---------------------------------------------------------------- arguments
PARTS=()
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    nist36|images|mnist|emnist|flowers|weights|pages) PARTS+=("$arg") ;;
    all) PARTS+=(nist36 images mnist emnist flowers weights pages) ;;
    *) echo "unknown part '$arg'; choose from: nist36 images mnist emnist flowers weights pages all" >&2; exit 2 ;;
  esac
done
[ ${#PARTS[@]} -gt 0 ] || PARTS=(nist36 images mnist emnist flowers weights pages)

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

mirror_file() {  # mirror_file RELATIVE_PATH: sets SRC to its path in the mirror, or fails
  [ -e "$MIRROR/$1" ] || fail "the mirror $MIRROR has no $1."
  SRC="$MIRROR/$1"
}

# ---------------------------------------------------------------- checks
# problems PATH...: "PATH: reason" for every file that is not usable. Without
# python (no .venv yet) only missing and empty files can be told apart.
problems() {
  if [ -x "$PYTHON" ]; then
    "$PYTHON" "$ROOT/python/check_data.py" "$@" || true
  else
    for p in "$@"; do [ -s "$p" ] || [ -d "$p" ] || echo "$p: missing or empty"; done
  fi
}

reason_for() {  # reason_for PATH REPORT: the reason REPORT gives for PATH, or nothing
  printf '%s\n' "$2" | awk -v p="$1: " 'index($0, p) == 1 { print substr($0, length(p) + 1); exit }'
}

# What this script wrote, so that it never mistakes a file of yours for its
# own: RECORD holds "<fingerprint>  <name>" per entry, the fingerprint being
# the sha256 of a file, the target of a link, or the listing of a folder.
fingerprint() {  # fingerprint PATH
  if [ -L "$1" ]; then printf 'link:%s' "$(readlink "$1")"
  elif [ -d "$1" ]; then printf 'dir:'; (cd "$1" && find . -type f -printf '%P %s\n' | sort | sha256sum | cut -d' ' -f1)
  else sha256sum "$1" | cut -d' ' -f1; fi
}

record() {  # record DIR NAME
  local list="$1/$RECORD"
  { [ ! -f "$list" ] || awk -v n="$2" 'substr($0, index($0, "  ") + 2) != n' "$list"
    printf '%s  %s\n' "$(fingerprint "$1/$2")" "$2"; } > "$list.tmp"
  mv "$list.tmp" "$list"
}

ours() {  # ours DIR NAME: placed by this script and unchanged since
  local p="$1/$2"
  [ -L "$p" ] && [ ! -e "$p" ] && return 0                            # a link to nothing holds nothing
  if [ -L "$p" ] && [ -n "$MIRROR" ]; then
    case "$(readlink "$p")" in "$MIRROR"/*) return 0 ;; esac          # a link into this mirror
  fi
  [ -e "$p" ] && [ -f "$1/$RECORD" ] && grep -qxF "$(fingerprint "$p")  $2" "$1/$RECORD"
}

# wanted DIR NAME...: set WANTED to the names to fetch: missing ones, damaged
# ones of this script's, and with --force every one of this script's. A
# damaged file of yours stops the script; a good one is kept.
wanted() {
  local dir="$1"; shift
  local report name p why
  report="$(problems "${@/#/$dir/}")"
  WANTED=()
  for name in "$@"; do
    p="$dir/$name"
    why="$(reason_for "$p" "$report")"
    if [ ! -e "$p" ] && [ ! -L "$p" ]; then WANTED+=("$name"); continue; fi
    if [ -z "$why" ] && [ "$FORCE" != 1 ]; then continue; fi   # in place and usable
    if ours "$dir" "$name"; then
      [ -z "$why" ] || say "fetching $name again: $why"
      WANTED+=("$name")
    elif [ -n "$why" ]; then
      fail "$p is not usable ($why). It is not a file this script fetched, so it is left as it is: move it away (or delete it) and run again."
    else
      say "kept $p: this script has no record of placing it (--force fetches again only what it placed; move it away to fetch it again)"
    fi
  done
}

# place SRC DIR NAME HOW: put SRC at DIR/NAME ('link' or 'move'), once it is
# usable, and record it as this script's.
place() {
  local src="$1" dir="$2" name="$3" how="$4"
  local report; report="$(problems "$src")"
  [ -z "$report" ] || fail "the source of $name is damaged ($(reason_for "$src" "$report")); \
${MIRROR:+get an intact copy of the mirror, or }try again."
  mkdir -p "$dir"
  rm -rf "$dir/$name"   # missing, or this script's: wanted() never lists a file of yours
  if [ "$how" = link ]; then ln -s "$src" "$dir/$name"; else mv "$src" "$dir/$name"; fi
  record "$dir" "$name"
}

# ---------------------------------------------------------------- parts
# The course's own files: data.zip (NIST36) and images.zip (the Q4 photos).
get_course_files() {  # get_course_files PART DEST ZIP MIRROR_SUBFOLDER FILE...
  local part="$1" dest="$2" zip="$3" sub="$4"; shift 4
  wanted "$dest" "$@"
  if [ ${#WANTED[@]} -eq 0 ]; then say "$part: in place (checked)"; return; fi
  if [ -n "$MIRROR" ]; then
    for f in "${WANTED[@]}"; do mirror_file "$sub/$f"; place "$SRC" "$dest" "$f" link; done
  else
    new_tmp
    download "$COURSE_URL/$zip" "$TMP/archive.zip"
    unzip -q -o "$TMP/archive.zip" -d "$TMP/x"
    for f in "${WANTED[@]}"; do
      src="$(find "$TMP/x" -name "$f" | head -n 1)"
      [ -n "$src" ] || fail "$zip has no $f."
      place "$src" "$dest" "$f" move
    done
  fi
  say "$part: ok (${WANTED[*]})"
}

get_nist36() {
  # shellcheck disable=SC2086
  get_course_files nist36 "$DATA" data.zip data $NIST36_FILES
}

get_images() {
  # shellcheck disable=SC2086
  get_course_files images "$IMAGES" images.zip images $SAMPLE_IMAGES
}

# IDX files, gzipped at the source; torchvision reads them extracted.
get_idx() {  # get_idx PART RAW_DIR MIRROR_SUBFOLDER URL_BASE FILE...
  local part="$1" raw="$2" sub="$3" url="$4"; shift 4
  wanted "$raw" "$@"
  if [ ${#WANTED[@]} -eq 0 ]; then say "$part: in place (checked)"; return; fi
  mkdir -p "$raw"
  new_tmp
  for f in "${WANTED[@]}"; do
    if [ -n "$MIRROR" ]; then mirror_file "$sub/$f.gz"; gz="$SRC"
    else download "$url/$f.gz" "$TMP/$f.gz"; gz="$TMP/$f.gz"; fi
    gzip -dc "$gz" > "$TMP/$f" || fail "$gz is not a readable gzip file."
    place "$TMP/$f" "$raw" "$f" move
  done
  say "$part: ok (${WANTED[*]})"
}

get_mnist() {
  # shellcheck disable=SC2086
  get_idx mnist "$DATA/MNIST/raw" data/MNIST/raw "$MNIST_URL" $MNIST_FILES
}

get_emnist() {
  local raw="$DATA/EMNIST/raw"
  if [ -n "$MIRROR" ]; then
    # shellcheck disable=SC2086
    get_idx emnist "$raw" data/EMNIST/raw "" $EMNIST_FILES
    wanted "$raw" "$EMNIST_MAPPING"
    if [ ${#WANTED[@]} -gt 0 ]; then
      mirror_file "data/EMNIST/raw/$EMNIST_MAPPING"; new_tmp; cp "$SRC" "$TMP/$EMNIST_MAPPING"
      place "$TMP/$EMNIST_MAPPING" "$raw" "$EMNIST_MAPPING" move
      say "emnist: ok ($EMNIST_MAPPING)"
    fi
    return
  fi
  # shellcheck disable=SC2086
  wanted "$raw" $EMNIST_FILES "$EMNIST_MAPPING"
  if [ ${#WANTED[@]} -eq 0 ]; then say "emnist: in place (checked)"; return; fi
  # The official archive holds every EMNIST split (about 560 MB); keep only "balanced".
  new_tmp
  download "$EMNIST_URL" "$TMP/gzip.zip"
  unzip -q -j -o "$TMP/gzip.zip" 'gzip/emnist-balanced-*' -d "$TMP"
  for f in "${WANTED[@]}"; do
    if [ "$f" != "$EMNIST_MAPPING" ]; then gzip -dc "$TMP/$f.gz" > "$TMP/$f"; fi
    place "$TMP/$f" "$raw" "$f" move
  done
  say "emnist: ok (${WANTED[*]})"
}

get_flowers() {
  wanted "$DATA" oxford-flowers17
  if [ ${#WANTED[@]} -eq 0 ]; then say "flowers: in place (checked)"; return; fi
  if [ -n "$MIRROR" ]; then
    mirror_file data/oxford-flowers17
    place "$SRC" "$DATA" oxford-flowers17 link
  else
    # The archive holds jpg/image_0001.jpg ... image_1360.jpg, 80 per class in
    # class order. scripts/flowers17_split.csv fixes the train/val/test split
    # (40/20/20 per class), the same one as the offline mirror.
    new_tmp
    local tree="$TMP/oxford-flowers17"
    download "$FLOWERS_URL" "$TMP/17flowers.tgz"
    tar -xzf "$TMP/17flowers.tgz" -C "$TMP"
    tail -n +2 "$ROOT/scripts/flowers17_split.csv" | while IFS=, read -r file label split; do
      mkdir -p "$tree/$split/$label"
      mv "$TMP/jpg/$file" "$tree/$split/$label/$file"
    done
    i=0; : > "$tree/classes.txt"
    for name in $FLOWER_NAMES; do echo "$i $name" >> "$tree/classes.txt"; i=$((i + 1)); done
    place "$tree" "$DATA" oxford-flowers17 move
  fi
  say "flowers: ok"
}

get_weights() {
  # SqueezeNet for Q7.2. On a connected machine torchvision downloads its own
  # squeezenet1_1 weights when run_q7_2.py first asks for them; the mirror has
  # SqueezeNet 1.0 weights instead, which run_q7_2.py picks up from data/weights/.
  local dest="$DATA/weights"
  if [ -n "$MIRROR" ]; then
    wanted "$dest" "$SQUEEZENET_FILE"
    if [ ${#WANTED[@]} -eq 0 ]; then say "weights: in place (checked)"; return; fi
    mirror_file "weights/$SQUEEZENET_FILE"
    place "$SRC" "$dest" "$SQUEEZENET_FILE" link
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

get_pages() {  # Q4's OCR validation pages, composed from the NIST36 and EMNIST test splits
  if [ ! -x "$PYTHON" ]; then
    say "pages: skipped (no $PYTHON yet; run_q4.py composes them when it first runs)"
    return
  fi
  for source in nist36 emnist; do
    "$PYTHON" "$ROOT/python/make_pages.py" --source "$source" --for-run-q4 \
      || fail "could not compose the $source validation pages (is the $source data there?)."
  done
  say "pages: ok"
}

# ---------------------------------------------------------------- main
[ -x "$PYTHON" ] || say "note: no $PYTHON yet, so files are checked only for being there (run \`make venv\` first)"

for part in "${PARTS[@]}"; do "get_$part"; done
say "done: ${PARTS[*]}"
