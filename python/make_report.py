"""Write results/REPORT.md from the results the question scripts saved.

    python python/make_report.py [--results DIR] [--update-readme]

Nothing in the report is typed by hand: every number is read from a
``metrics.json`` (or the timings of ``scripts/run_all.sh``) and every figure
is linked from where its script saved it. A question that has not been run
yet gets a line saying which command makes it; a number that is missing
shows as missing, never as 0. The report's links are relative, so the
results folder can be moved or zipped as a whole.

REPORT.md is replaced only if this script wrote it and nobody has edited it
since (its first line holds a checksum of the rest); a REPORT.md of your own
is never overwritten.
"""
import threads  # noqa: F401,I001  (first line: sets the math libraries' threads before numpy loads)

import datetime
import hashlib
import os
import platform
from pathlib import Path

from questions import EMNIST_NOTE, MADE_BY, NIST36_NOTE, Q7_1_TITLES
from util import (REPO_ROOT, RESULTS_DIR, Parser, UsageError, load_json, run_main, save_text, short_reason,
                  writable)

NIST_NOTE = f'*Data: {NIST36_NOTE}.*'
EMNIST_DATA_NOTE = f'*Data: {EMNIST_NOTE}.*'
MISSING = '–'  # a number the results do not hold


class Metrics(dict):
    """A metrics.json object whose missing keys are a UsageError naming the
    file (an older or damaged file), not a KeyError traceback."""

    def __init__(self, data, path, fix):
        super().__init__({k: _strict(v, path, fix) for k, v in data.items()})
        self.path, self.fix = path, fix

    def __missing__(self, key):
        raise UsageError(f'{self.path} has no {key!r} (an older or damaged file); {self.fix}')


def _strict(value, path, fix):
    if isinstance(value, dict):
        return Metrics(value, path, fix)
    if isinstance(value, list):
        return [_strict(v, path, fix) for v in value]
    return value


class Report:
    """Collects Markdown lines; figures and numbers come from the results folder."""

    def __init__(self, root):
        self.root = Path(root)
        self.lines = []

    def metrics(self, rel):
        """The metrics.json of results folder ``rel``; None if not run yet."""
        path = self.root / rel / 'metrics.json'
        if not path.exists():
            return None
        data = load_json(path, made_by=MADE_BY[rel])
        if not isinstance(data, dict):
            raise UsageError(f'{path} holds a {type(data).__name__}, not metrics; '
                             f'rerun `python python/{MADE_BY[rel]}`')
        return Metrics(data, path, f'rerun `python python/{MADE_BY[rel]}`')

    def start(self, anchor, title, rel, note=None):
        """A question's heading and its metrics, then ``note`` (the data it
        was measured on); without metrics (None), a line saying which
        command makes them."""
        self.section(anchor, title)
        m = self.metrics(rel)
        if m is None:
            self.add(f'*Not run yet: `python python/{MADE_BY[rel]}` makes this section.*', '')
        elif note:
            self.add(note, '')
        return m

    def add(self, *lines):
        self.lines.extend(lines)

    def section(self, anchor, title):
        self.add('', f'<a id="{anchor}"></a>', f'## {title}', '')

    def figure(self, rel, caption):
        """Embed a figure if it exists; say so if it does not."""
        if (self.root / rel).exists():
            self.add(f'![{caption}]({rel})', f'*{caption}*', '')
        else:
            self.add(f'*(figure `{rel}` is missing: rerun the question)*', '')

    def table(self, header, rows):
        self.add('| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header))
        for row in rows:
            self.add('| ' + ' | '.join(str(c) for c in row) + ' |')
        self.add('')

    def link(self, path):
        """A relative link from the report to a file in the repo."""
        return os.path.relpath(path, self.root).replace(os.sep, '/')


def num(x, spec, unit=''):
    """x formatted with ``spec``, or MISSING for a number the results lack."""
    return MISSING if x is None else f'{x:{spec}}{unit}'


def pct(x, digits=1):
    return MISSING if x is None else f'{100 * x:.{digits}f}%'


def secs(x):
    return num(x, '.1f', ' s')


def count(x):
    return num(x, ',')


# ----------------------------------------------------------------------------
# One function per question
# ----------------------------------------------------------------------------
def q2(r):
    m = r.start('q2', 'Q2: a fully connected network from scratch', 'q2')
    if m is None:
        return
    r.add(f'Toy data (4 Gaussian classes, 40 points), 2-25-4 network, {m["epochs"]} epochs, '
          f'lr {m["lr"]}, batch {m["batch_size"]}, seed {m["seed"]}: loss {num(m["initial_loss"], ".1f")} '
          f'-> {num(m["final_loss"], ".1f")}, accuracy {pct(m["initial_acc"], 0)} -> {pct(m["final_acc"], 0)}.', '')
    r.add('**Q2.5.1 numerical gradient check** (central differences, every scalar, float64; '
          'error = max |analytic - numeric| / max |gradient| per parameter):', '')
    r.table(['parameter', 'max relative error'],
            [[k, num(v, '.2e')] for k, v in m['gradcheck_max_rel_error'].items()])
    r.add(f'Worst: **{num(m["gradcheck_worst"], ".2e")}** ({"pass" if m["gradcheck_pass"] else "FAIL"}, '
          'threshold 1e-6).', '')
    r.figure('q2/toy_training.png', 'Q2.4: training loss on the toy data')


def q3(r):
    m = r.start('q3', 'Q3: training the NIST36 network', 'q3', note=NIST_NOTE)
    if m is None:
        return
    r.add(f'1024-64-36 sigmoid/softmax network, {m["epochs"]} epochs, batch {m["batch_size"]}, '
          f'{m.get("lr_schedule", "constant")} learning-rate schedule, seed {m["seed"]}; '
          f'the three runs start from the same weights. Time for all three: {secs(m["seconds"])}.', '')
    r.add(f'**Best learning rate {m["best_lr"]:g}: validation accuracy {pct(m["valid_acc"])}, '
          f'test accuracy {pct(m["test_acc"])}.**', '')
    rows = []
    for lr, run in sorted(m['per_lr'].items(), key=lambda kv: float(kv[0])):
        rows.append([lr + (' (best)' if float(lr) == m['best_lr'] else ''),
                     pct(run['train_acc']), pct(run['valid_acc']), pct(run['test_acc']),
                     num(run['valid_loss'], '.3f')])
    r.table(['learning rate', 'train acc', 'valid acc', 'test acc', 'valid loss (mean)'], rows)
    r.add('### Q3.1.1 / Q3.1.2: curves', '')
    r.figure('q3/accuracy_all.png', 'Accuracy of the three learning rates (solid: train, dashed: valid)')
    r.figure('q3/loss_all.png', 'Mean cross-entropy of the three learning rates')
    for lr in sorted(m['per_lr'], key=float):
        r.figure(f'q3/accuracy_lr{lr}.png', f'Accuracy, lr {lr}')
        r.figure(f'q3/loss_lr{lr}.png', f'Loss, lr {lr}')
    r.add('### Q3.1.3: first-layer weights', '')
    r.figure('q3/weights_layer1.png', 'W1 reshaped to 32x32: at initialisation and after training')
    r.figure('q3/weights_layer2.png',
             f'W1 W2 e_i for classes {", ".join(m["layer2_classes"])}, and the validation image '
             'that excites each output most')
    r.add('### Q3.1.4: confusion matrix (test set)', '')
    r.figure('q3/confusion_test.png', 'Confusion matrix of the best network on the test set')
    r.add('Most confused pairs on the test set (both directions counted):', '')
    r.table(['pair', 'mistakes', 'detail'],
            [[p['pair'], p['count'], ', '.join(f'{k}: {v}' for k, v in p.items()
                                               if '->' in k)] for p in m['top_confused_pairs']])


def q4(r):
    m = r.start('q4', 'Q4: extracting text from images', 'q4')
    if m is None:
        return
    emnist = r.metrics('q4_emnist')
    r.add('Character accuracy = 1 - Levenshtein distance / length, on upper-case letters and '
          'digits (spaces and punctuation removed), against the hand transcription in '
          f'[images/ground_truth.json]({r.link(REPO_ROOT / "images" / "ground_truth.json")}). '
          '"Network alone" reads each crop independently; the headline adds a word rule that '
          'makes each word all letters or all digits (0/O, 1/I, 2/Z, 5/S, 6/G, 8/B).', '')
    header = ['image', 'boxes', 'MLP (Q3)', 'MLP, network alone']
    if emnist:
        header += ['EMNIST CNN (Q7.1.4)', 'EMNIST CNN, network alone']
    rows = []
    for stem, info in m['images'].items():
        row = [stem, info['boxes'], pct(info['char_accuracy']), pct(info['char_accuracy_raw'])]
        if emnist:
            e = emnist['images'].get(stem, {})
            row += [pct(e.get('char_accuracy')), pct(e.get('char_accuracy_raw'))]
        rows.append(row)
    mean = ['**mean**', '', f'**{pct(m["mean_char_accuracy"])}**', pct(m['mean_char_accuracy_raw'])]
    if emnist:
        mean += [f'**{pct(emnist["mean_char_accuracy"])}**', pct(emnist['mean_char_accuracy_raw'])]
    r.table(header, rows + [mean])
    r.add(NIST_NOTE, '')
    truth = {}
    gt_path = REPO_ROOT / 'images' / 'ground_truth.json'
    if gt_path.exists():
        truth = load_json(gt_path)
    for stem, info in m['images'].items():
        r.add(f'### {stem}', '')
        r.figure(f'q4/{stem}_boxes.png', f'findLetters boxes on {stem} ({info["boxes"]} boxes, '
                 f'{num(info.get("findletters_seconds"), ".2f", " s")})')
        r.add('| extracted (MLP) | ground truth |', '|---|---|')
        ours = info['text'].split('\n')
        gt = truth.get(stem, [])
        for i in range(max(len(ours), len(gt))):
            r.add(f'| `{ours[i] if i < len(ours) else ""}` | `{gt[i] if i < len(gt) else ""}` |')
        r.add('')
        if emnist and stem in emnist['images']:
            r.add('EMNIST CNN reads: ' + ' / '.join(f'`{t}`' for t in emnist['images'][stem]['text'].split('\n')), '')
        r.figure(f'q4/{stem}_crops.png', f'The 32x32 crops of {stem} as the network sees them')
    q4_dev_photos(r, m, emnist)
    q4_pages(r, m, emnist)
    r.add('### Q4.1: where the method fails', '')
    r.add('Each figure shows the handout\'s plain method (blur, one global threshold, a closing, '
          'connected components) next to this project\'s findLetters on the same image.', '')
    r.figure('q4/failure_ruled_background.png',
             '"The page is plain" broken: dark rules join the letters into one component (plain '
             'method); findLetters removes the rules')
    r.figure('q4/failure_shadow.png', '"The light is even" broken: a hard shadow falls below the '
             'global threshold (plain method); findLetters divides by the paper\'s brightness')
    r.figure('q4/failure_touching.png', '"One letter, one component" broken: touching letters '
             'get one box, with both methods (still a failure)')


def dev_photo_table(runs):
    """(header, rows): character accuracy per development photo and classifier."""
    header = ['photo'] + [name for name, _ in runs]
    rows = [[n] + [pct(d['char_accuracy'].get(n)) for _, d in runs] for n in runs[0][1]['char_accuracy']]
    rows.append(['**mean**'] + [f'**{pct(d["mean_char_accuracy"])}**' for _, d in runs])
    rows.append(['lowest'] + [pct(d['min_char_accuracy']) for _, d in runs])
    return header, rows


def q4_dev_photos(r, m, emnist):
    """Per-photo accuracy on the real development photos, when run_q4 read them."""
    runs = q4_runs(m, emnist, 'dev_photos')
    if not runs:
        return
    r.add('### Real photos: the development set', '')
    r.add(f'Real phone photos and scans of handwriting by four writers ({runs[0][1]["folder"]}, with '
          'its README for where each comes from). findLetters was tuned on them and on the generated '
          'pages, so these are development scores, not held-out ones.', '')
    r.table(*dev_photo_table(runs))


def q4_runs(m, emnist, key):
    """[(classifier name, its results under key)] for the Q4 runs that have
    them: key 'validation_pages' (the generated pages) or 'dev_photos'."""
    return [(name, x[key]) for name, x in (('MLP (Q3)', m), ('EMNIST CNN', emnist)) if x and x.get(key)]


def page_table(runs, detail):
    """(header, rows) of the page set's accuracy per condition, one column
    group per classifier: text accuracy, and with detail the crops against
    the dataset images and the boxes found."""
    header = ['condition']
    for name, _ in runs:
        header += [f'{name} text'] + ([f'{name} crops / dataset', f'{name} boxes found'] if detail else [])
    rows = []
    for cond in list(runs[0][1]['per_condition']) + ['all']:
        row = ['**all pages**' if cond == 'all' else cond.replace('_', ' ')]
        for _, p in runs:
            c = p['all'] if cond == 'all' else p['per_condition'].get(cond)
            cells = [pct(c['char_accuracy']), f'{pct(c["crop_accuracy"])} / {pct(c["dataset_accuracy"])}',
                     pct(c['box_recall'])] if c else [MISSING] * 3
            row += cells if detail else cells[:1]
        rows.append(row)
    return header, rows


def q4_pages(r, m, emnist):
    """The OCR validation set: accuracy per condition for both classifiers."""
    runs = q4_runs(m, emnist, 'validation_pages')
    if not runs:
        return
    r.add('### OCR validation: generated pages, per condition', '')
    r.add('Pages composed by `python/make_pages.py` from *test-split* handwriting (NIST36 test for '
          'the MLP, the upper-case and digit classes of EMNIST test for the CNN; no character was '
          'seen in training), photographed in the conditions a phone user produces. findLetters and '
          'the crop preparation were tuned on these pages only, never on the four photos. '
          '"crops" is the classifier on the found characters\' crops, "dataset" on the same '
          'characters\' own test images: the gap is what the crop preparation loses.', '')
    header, rows = page_table(runs, detail=True)
    r.table(header, rows)
    for name, p in runs:
        r.add(f'{name}: {p["pages_per_condition"]} page(s) per condition, seed {p["seed"]}, '
              f'{p["source"]}. {p["note"]}.', '')
    r.figure('q4/pages_accuracy.png', 'MLP: accuracy per condition on the generated pages')
    r.figure('q4/pages_examples.png', 'One generated page per condition with the boxes findLetters found')
    if len(runs) > 1:
        r.figure('q4_emnist/pages_accuracy.png', 'EMNIST CNN: accuracy per condition on the generated pages')


def q5(r):
    m = r.start('q5', 'Q5: image compression with an autoencoder', 'q5', note=NIST_NOTE)
    if m is None:
        return
    r.add(f'Autoencoder {"-".join(map(str, m["architecture"]))} (ReLU hidden, sigmoid output), total '
          f'squared error, momentum {m["momentum"]}, lr {m["lr"]} ({m["lr_schedule"]}), batch '
          f'{m["batch_size"]}, {m["epochs"]} epochs, seed {m["seed"]}; {count(m["params"])} parameters; '
          f'{secs(m["seconds"])}.', '')
    r.add(f'**Q5.3.2 average validation PSNR: {num(m["valid_psnr"], ".2f", " dB")}** '
          f'(test: {num(m["test_psnr"], ".2f", " dB")}). Training loss per image: '
          f'{num(m["initial_train_loss"], ".1f")} after the first epoch -> {num(m["final_train_loss"], ".1f")}.', '')
    r.add(f'Gradient check on the autoencoder (relu layers included): worst relative error '
          f'{num(m["gradcheck_worst"], ".2e")} ({"pass" if m["gradcheck_pass"] else "FAIL"}).', '')
    r.figure('q5/loss.png', 'Q5.2: training loss')
    r.figure('q5/reconstructions.png',
             f'Q5.3.1: validation images of classes {", ".join(m["shown_classes"])} and their reconstructions')


def q6(r):
    m = r.start('q6', 'Q6: comparing against PCA', 'q6', note=NIST_NOTE)
    if m is None:
        return
    shape = ' x '.join(map(str, m['projection_shape']))
    r.add(f'**Q6.1** The projection matrix is {shape} with rank {m["projection_rank"]} '
          f'(its {m["components"]} components explain {pct(m["explained_variance"])} of the '
          'training variance).', '')
    r.table(['', 'PCA (32 components)', 'autoencoder'],
            [['valid PSNR', num(m['pca_valid_psnr'], '.2f', ' dB'), num(m['ae_valid_psnr'], '.2f', ' dB')],
             ['test PSNR', num(m['pca_test_psnr'], '.2f', ' dB'), num(m['ae_test_psnr'], '.2f', ' dB')],
             ['learned parameters', count(m['pca_params']), count(m['ae_params'])]])
    r.add(f'PCA parameters counted: {m["pca_params_counted"]}.', '')
    r.figure('q6/reconstructions_valid.png', 'Q6.2: validation images, PCA and autoencoder reconstructions')
    r.figure('q6/reconstructions_test.png', 'Q6.2 (older edition): test images, PCA and autoencoder')


def q7_1(r):
    r.section('q7-1', 'Q7.1: PyTorch')
    rows = []
    for part, title in Q7_1_TITLES.items():
        m = r.metrics(f'q7_1/{part}')
        if m is None:
            rows.append([title, MISSING, MISSING, MISSING, MISSING, 'not run' + (
                ' (CIFAR-10 is not in the offline mirror)' if part == 'cnn_cifar10' else '')])
            continue
        rows.append([title, pct(m.get('train_acc')), pct(m.get('valid_acc')), pct(m.get('test_acc')),
                     count(m.get('trainable_params')), secs(m.get('seconds'))])
    r.table(['part', 'train acc', 'valid acc', 'test acc', 'parameters', 'time'], rows)
    r.add(NIST_NOTE, '', EMNIST_DATA_NOTE, '')
    q3m = r.metrics('q3')
    if q3m:
        r.add(f'For comparison, the numpy network of Q3: valid {pct(q3m["valid_acc"])}, '
              f'test {pct(q3m["test_acc"])}.', '')
    for part, title in Q7_1_TITLES.items():
        m = r.metrics(f'q7_1/{part}')
        if m is None:
            continue
        r.add(f'### {title}', '')
        for key in ('optimizer', 'augmentation'):
            if m.get(key):
                r.add(f'- {key}: {m[key]}')
        split = m.get('valid_split')
        if isinstance(split, dict) and 'size' in split:  # held out of train (older runs: none)
            r.add(f'- validation: {count(split["size"])} of the {count(split.get("of"))} training images, '
                  f'held out at random (seed {split.get("seed")}); the test set is scored once, '
                  'after training')
        r.add(f'- epochs {m.get("epochs")}, batch {m.get("batch_size")}, lr {m.get("lr")}, '
              f'seed {m.get("seed")}, {m.get("torch_threads", "?")} CPU threads'
              + (f', computed in {m["precision"]}' if m.get('precision') else ''), '')
        if m.get('architecture'):
            r.add('<details><summary>architecture</summary>', '', '```',
                  *m['architecture'], '```', '</details>', '')
        r.figure(f'q7_1/{part}/accuracy.png', f'{title}: accuracy')
        r.figure(f'q7_1/{part}/loss.png', f'{title}: loss')
        if (r.root / f'q7_1/{part}/samples.png').exists():
            r.figure(f'q7_1/{part}/samples.png', f'{title}: test images with predictions')
    if r.metrics('q4_emnist'):
        r.add('The EMNIST network reading the sample images is in the [Q4 table](#q4).', '')


def q7_2(r):
    m = r.start('q7-2', 'Q7.2: fine-tuning SqueezeNet on Oxford Flowers 17', 'q7_2')
    if m is None:
        return
    r.add(f'Weights used: {m["weights_used"]}. Data: all 1360 Oxford Flowers 17 photos, split 40/20/20 '
          'per class (a seeded split, not the official datasplits.mat).'
          + (f' Computed in {m["precision"]}.' if m.get('precision') else ''), '')
    rows = [['fine-tuned SqueezeNet (new final layer only)', pct(m.get('finetune_val_acc')),
             pct(m['finetune_test_acc']), count(m.get('finetune_trainable_params')),
             secs(m.get('finetune_seconds'))],
            ['from scratch (3 conv + 2 fc)', pct(m.get('scratch_val_acc')), pct(m['scratch_test_acc']),
             count(m.get('scratch_trainable_params')), secs(m.get('scratch_seconds'))]]
    if 'unfrozen_test_acc' in m:
        rows.append(['fine-tuned SqueezeNet, then every layer unfrozen', pct(m.get('unfrozen_val_acc')),
                     pct(m['unfrozen_test_acc']), count(m.get('unfrozen_trainable_params')),
                     secs(m.get('unfrozen_seconds'))])
    r.table(['model', 'val acc', 'test acc', 'trainable parameters', 'training time'], rows)
    r.add(f'Fine-tuning time includes computing the frozen backbone\'s features once '
          f'({secs(m.get("finetune_feature_seconds"))}). Seed {m["seed"]}.', '')
    for name in sorted(p.name for p in (r.root / 'q7_2').glob('*.png')):
        r.figure(f'q7_2/{name}', name[:-4].replace('_', ' '))


def read_timings(root):
    """[(step, status, seconds)] from the main job's timings.tsv (header
    first, then one tab-separated line per step); [] when there is none."""
    path = Path(root) / 'timings.tsv'
    if not path.exists():
        return []
    rows = []
    for n, line in enumerate(path.read_text().splitlines()[1:], start=2):
        if not line.strip():
            continue
        cells = line.split('\t')
        try:
            step, status, seconds = cells
            rows.append((step, status, float(seconds)))
        except ValueError:
            raise UsageError(f'{path} line {n} does not read "step<TAB>status<TAB>seconds"; '
                             'rerun `make all`, or delete the file') from None
    return rows


def plural(n, noun):
    return f'{n} {noun}' + ('' if n == 1 else 's')


WALL = 'wall'  # run_all.sh's row for the whole chain's wall time


def split_wall(rows):
    """read_timings' rows -> (the steps' rows, the chain's wall seconds or
    None). run_all.sh runs steps side by side, so their sum is more."""
    walls = [seconds for step, _, seconds in rows if step == WALL]
    return [row for row in rows if row[0] != WALL], (walls[-1] if walls else None)


def chain_minutes(steps):
    """The chain's wall time: its "wall" row, else the sum of the steps that ran."""
    steps, wall = split_wall(steps)
    total = wall if wall is not None else sum(seconds for _, status, seconds in steps if status == 'ok')
    lanes = ' in two lanes side by side' if wall is not None else ''
    return f'{total / 60:.1f} min{lanes}'


def timings(r):
    r.section('timings', 'Timings of the last `make all`')
    rows = read_timings(r.root)
    if not rows:
        return r.add('*No timings: run `make all` (scripts/run_all.sh) to record them.*', '')
    r.add('scripts/run_all.sh runs the steps in two lanes side by side (one at a time with LANES=1), '
          'so they can add up to more than the chain\'s wall time, the "wall" row.', '')
    r.table(['step', 'status', 'seconds'], [(step, status, f'{s:.1f}') for step, status, s in rows])


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f'{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}'


# The sections in order, each with the results folder it reads (for errors)
SECTIONS = ((q2, 'q2'), (q3, 'q3'), (q4, 'q4'), (q5, 'q5'), (q6, 'q6'), (q7_1, 'q7_1'), (q7_2, 'q7_2'),
            (timings, 'timings.tsv'))


def build(root):
    r = Report(root)
    r.add('# HW5 results report', '',
          f'Generated by `python/make_report.py` on {datetime.date.today()} from the `metrics.json` '
          'files and figures under this folder; nothing here is typed by hand. Machine: '
          f'{machine()}. Every script fixes its seed (listed per question), so a rerun '
          'reproduces these numbers.', '',
          f'Written answers to the theory questions: [docs/theory.md]({r.link(REPO_ROOT / "docs" / "theory.md")}).', '')
    r.add('Contents: [Q2](#q2) · [Q3](#q3) · [Q4](#q4) · [Q5](#q5) · [Q6](#q6) · [Q7.1](#q7-1) · '
          '[Q7.2](#q7-2) · [timings](#timings)', '')
    for section, rel in SECTIONS:
        try:
            section(r)
        except (TypeError, ValueError, AttributeError, IndexError) as e:  # a value of the wrong kind
            raise UsageError(f'{Path(root) / rel} holds a value the report cannot show '
                             f'({short_reason(e)}); rerun that question') from None
    return '\n'.join(r.lines).rstrip() + '\n'


# ----------------------------------------------------------------------------
# REPORT.md is replaced only while it is what this script wrote
# ----------------------------------------------------------------------------
SIGNATURE = '<!-- written by python/make_report.py; sha256 of the lines below: {} -->'


def sign(text):
    return SIGNATURE.format(hashlib.sha256(text.encode()).hexdigest()) + '\n' + text


def is_untouched_report(text):
    """True for a REPORT.md this script wrote and nobody edited since: its
    first line holds the checksum of the rest. (A report from before the
    checksum was added is recognised by its "Generated by" line.)"""
    first, _, rest = text.partition('\n')
    before, after = SIGNATURE.split('{}')
    if first.startswith(before) and first.endswith(after):
        return first[len(before):-len(after)] == hashlib.sha256(rest.encode()).hexdigest()
    return text.startswith('# HW5 results report') and 'Generated by `python/make_report.py`' in text[:600]


def write_report(path, text):
    path = writable(path)
    if path.is_dir():
        raise UsageError(f'{path} is a folder; move it away to let the report be written')
    if path.exists() and not is_untouched_report(path.read_text(errors='replace')):
        raise UsageError(f'{path} was not written by make_report.py, or was edited since; move it away '
                         '(nothing of yours is overwritten), or pass --results to report elsewhere')
    save_text(path, sign(text))


# ----------------------------------------------------------------------------
# The README's results table
# ----------------------------------------------------------------------------
def headline_rows(r, times):
    """(question, headline, time) rows for the README's results table; the
    time is the main job's step (times: {step: '12 s'}) or a part's own. A
    question without results reads "not run"."""
    def when_run(rel, headline):
        m = r.metrics(rel)
        return 'not run' if m is None else headline(m)

    def char_accuracy(m):
        pages = (m.get('validation_pages') or {}).get('all', {})
        return (f'char. accuracy {pct(m.get("mean_char_accuracy"))} '
                f'(network alone {pct(m.get("mean_char_accuracy_raw"))}); '
                f'generated pages {pct(pages.get("char_accuracy"))}')

    rows = [('Q2 gradient check', when_run('q2', lambda m: 'worst relative error '
                                                           f'{num(m.get("gradcheck_worst"), ".1e")}'),
             times.get('q2', '')),
            ('Q3 NIST36 MLP (numpy)', when_run('q3', lambda m: f'valid {pct(m.get("valid_acc"))}, '
                                                                f'test {pct(m.get("test_acc"))}'),
             times.get('q3', '')),
            ('Q4 text from photos, Q3 MLP', when_run('q4', char_accuracy), times.get('q4', '')),
            ('Q5 autoencoder', when_run('q5', lambda m: f'valid PSNR {num(m.get("valid_psnr"), ".2f", " dB")}'),
             times.get('q5', '')),
            ('Q6 PCA, 32 components',
             when_run('q6', lambda m: f'valid PSNR {num(m.get("pca_valid_psnr"), ".2f", " dB")}'),
             times.get('q6', ''))]
    for part, title in list(Q7_1_TITLES.items())[:4]:
        m = r.metrics(f'q7_1/{part}')
        # two decimals: the targets these are held to sit a few images apart
        rows.append((title, 'not run' if m is None else (f'valid {pct(m.get("valid_acc"), 2)}, '
                                                         f'test {pct(m.get("test_acc"), 2)}'),
                     '' if m is None else secs(m.get('seconds'))))
    rows.append(('Q4 text from photos, EMNIST CNN', when_run('q4_emnist', char_accuracy),
                 times.get('q4-emnist', '')))
    rows.append(('Q7.2 SqueezeNet fine-tuned / from scratch',
                 when_run('q7_2', lambda m: f'test {pct(m.get("finetune_test_acc"))} / '
                                            f'{pct(m.get("scratch_test_acc"))}'),
                 times.get('q7.2', '')))
    return rows


def readme_table(root):
    """The README's results table, from the metrics and the last run's timings."""
    r = Report(root)
    steps = read_timings(root)
    times = {step: f'{seconds:.0f} s' if status == 'ok' else status for step, status, seconds in steps}
    lines = ['## Results', '',
             f'Measured by `make all` on {machine()}, {datetime.date.today()}; written into this '
             'README by `python python/make_report.py --update-readme` from `results/*/metrics.json`. '
             'NIST36 and EMNIST are stand-ins (see [Data](#data)); details and figures in '
             '`results/REPORT.md`.', '',
             '| question | result | time |', '|---|---|---|']
    for title, headline, time_cell in headline_rows(r, times):
        lines.append(f'| {title} | {headline} | {time_cell} |')
    if steps:
        lines.append(f'| **whole `make all` chain** (without set-up) | | {chain_minutes(steps)} |')
    fc, cnn = r.metrics('q7_1/fc_nist36'), r.metrics('q7_1/cnn_nist36')
    if fc and cnn:
        lines += ['', '**NIST36, fully connected vs convolutional (Q7.1.3), PyTorch on the CPU:**', '',
                  '| network | valid acc | test acc | parameters | training time |', '|---|---|---|---|---|']
        for name, m in (('FC 1024-64-36 (sigmoid)', fc), ('CNN (3 conv blocks, augmentation)', cnn)):
            lines.append(f'| {name} | {pct(m.get("valid_acc"))} | {pct(m.get("test_acc"))} | '
                         f'{count(m.get("trainable_params"))} | {secs(m.get("train_seconds"))} |')
    runs = q4_runs(r.metrics('q4'), r.metrics('q4_emnist'), 'validation_pages')
    if runs:
        header, rows = page_table(runs, detail=False)
        photos = {'MLP (Q3)': r.metrics('q4'), 'EMNIST CNN': r.metrics('q4_emnist')}
        rows.append(['the four course photos'] + [pct(photos[name].get('mean_char_accuracy')) for name, _ in runs])
        lines += ['', '**Q4, text accuracy on the generated validation pages** (test-split handwriting, '
                  f'{plural(runs[0][1]["pages_per_condition"], "page")} per condition, seed {runs[0][1]["seed"]}; '
                  'see [Reading your own photos](#reading-your-own-photos)):', '',
                  '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
        lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    dev = q4_runs(r.metrics('q4'), r.metrics('q4_emnist'), 'dev_photos')
    if dev:
        header, rows = dev_photo_table(dev)
        lines += ['', f'**Q4, text accuracy on real photos** ({dev[0][1]["folder"]}: the development set, '
                  'tuned on, not held out):', '', '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
        lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def update_readme(root, readme=REPO_ROOT / 'README.md'):
    """Rewrite the README between its results markers, and nothing else."""
    start, end = '<!-- results:start -->', '<!-- results:end -->'
    text = readme.read_text()
    if start not in text or end not in text:
        raise UsageError(f'{readme} has no {start} ... {end} markers; put them back around the results table')
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    table = readme_table(root)
    readme.write_text(f'{before}{start}\n{table}\n{end}{after}')
    print(f'updated the results table in {readme}')


def main():
    p = Parser(__doc__)
    p.add_argument('--results', type=Path, default=RESULTS_DIR, help='results folder to report on')
    p.add_argument('--update-readme', action='store_true',
                   help="also rewrite the README's results table from these results")
    args = p.parse_args()
    if not args.results.is_dir():
        raise UsageError(f'{args.results} is not a folder; run the questions first (make all), '
                         'or pass --results')
    write_report(args.results / 'REPORT.md', build(args.results))
    if args.update_readme:
        update_readme(args.results)


if __name__ == '__main__':
    run_main(main)
