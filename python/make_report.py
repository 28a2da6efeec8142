"""Write results/REPORT.md from the results the question scripts saved.

    python python/make_report.py [--results DIR]

Nothing in the report is typed by hand: every number is read from a
``metrics.json`` (or the timings of ``scripts/run_all.sh``) and every figure
is linked from where its script saved it. A question that has not been run
yet gets a line saying which command makes it. The report's links are
relative, so the results folder can be moved or zipped as a whole.
"""
import argparse
import datetime
import json
import os
import platform
from pathlib import Path

from util import REPO_ROOT, RESULTS_DIR

NIST_NOTE = ('*Data: NIST36 stand-in. The course\'s own .mat files were not available; these are '
             'real NIST handwriting (Special Database 19, via EMNIST), upper-case letters and digits, '
             'converted to the course format. Numbers are comparable to, not the same as, the '
             'original\'s.*')
EMNIST_NOTE = ('*Data: EMNIST Balanced stand-in: real EMNIST images of the 47 classes, capped at 2400 '
               'train and 400 test per class (92,551 / 15,414); close to, not the same as, the '
               'official benchmark.*')


class Report:
    """Collects Markdown lines; figures and numbers come from the results folder."""

    def __init__(self, root):
        self.root = Path(root)
        self.lines = []

    def metrics(self, rel):
        path = self.root / rel / 'metrics.json'
        if not path.exists():
            return None
        with open(path) as f:
            return json.load(f)

    def add(self, *lines):
        self.lines.extend(lines)

    def section(self, anchor, title):
        self.add('', f'<a id="{anchor}"></a>', f'## {title}', '')

    def missing(self, command):
        self.add(f'*Not run yet: `{command}` makes this section.*', '')

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


def pct(x, digits=1):
    return '–' if x is None else f'{100 * x:.{digits}f}%'


def secs(x):
    return '–' if x is None else f'{x:.1f} s'


# ----------------------------------------------------------------------------
# One function per question
# ----------------------------------------------------------------------------
def q2(r):
    r.section('q2', 'Q2: a fully connected network from scratch')
    m = r.metrics('q2')
    if m is None:
        return r.missing('python python/run_q2.py')
    r.add(f'Toy data (4 Gaussian classes, 40 points), 2-25-4 network, {m["epochs"]} epochs, '
          f'lr {m["lr"]}, batch {m["batch_size"]}, seed {m["seed"]}: loss {m["initial_loss"]:.1f} '
          f'-> {m["final_loss"]:.1f}, accuracy {pct(m["initial_acc"], 0)} -> {pct(m["final_acc"], 0)}.', '')
    r.add('**Q2.5.1 numerical gradient check** (central differences, every scalar, float64; '
          'error = max |analytic - numeric| / max |gradient| per parameter):', '')
    r.table(['parameter', 'max relative error'],
            [[k, f'{v:.2e}'] for k, v in m['gradcheck_max_rel_error'].items()])
    r.add(f'Worst: **{m["gradcheck_worst"]:.2e}** ({"pass" if m["gradcheck_pass"] else "FAIL"}, '
          'threshold 1e-6).', '')
    r.figure('q2/toy_training.png', 'Q2.4: training loss on the toy data')


def q3(r):
    r.section('q3', 'Q3: training the NIST36 network')
    m = r.metrics('q3')
    if m is None:
        return r.missing('python python/run_q3.py')
    r.add(NIST_NOTE, '')
    r.add(f'1024-64-36 sigmoid/softmax network, {m["epochs"]} epochs, batch {m["batch_size"]}, '
          f'{m.get("lr_schedule", "constant")} learning-rate schedule, seed {m["seed"]}; '
          f'the three runs start from the same weights. Time for all three: {secs(m["seconds"])}.', '')
    r.add(f'**Best learning rate {m["best_lr"]:g}: validation accuracy {pct(m["valid_acc"])}, '
          f'test accuracy {pct(m["test_acc"])}.**', '')
    rows = []
    for lr, run in sorted(m['per_lr'].items(), key=lambda kv: float(kv[0])):
        rows.append([lr + (' (best)' if float(lr) == m['best_lr'] else ''),
                     pct(run['train_acc']), pct(run['valid_acc']), pct(run['test_acc']),
                     f'{run["valid_loss"]:.3f}' if run['valid_loss'] is not None else '–'])
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
    r.section('q4', 'Q4: extracting text from images')
    m = r.metrics('q4')
    if m is None:
        return r.missing('python python/run_q4.py')
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
        truth = json.loads(gt_path.read_text())
    for stem, info in m['images'].items():
        r.add(f'### {stem}', '')
        r.figure(f'q4/{stem}_boxes.png', f'findLetters boxes on {stem} ({info["boxes"]} boxes, '
                 f'{info["findletters_seconds"]:.2f} s)')
        r.add('| extracted (MLP) | ground truth |', '|---|---|')
        ours = info['text'].split('\n')
        gt = truth.get(stem, [])
        for i in range(max(len(ours), len(gt))):
            r.add(f'| `{ours[i] if i < len(ours) else ""}` | `{gt[i] if i < len(gt) else ""}` |')
        r.add('')
        if emnist and stem in emnist['images']:
            r.add('EMNIST CNN reads: ' + ' / '.join(f'`{t}`' for t in emnist['images'][stem]['text'].split('\n')), '')
        r.figure(f'q4/{stem}_crops.png', f'The 32x32 crops of {stem} as the network sees them')
    r.add('### Q4.1: where the method fails', '')
    r.figure('q4/failure_touching.png', 'Assumption 1 broken: touching letters form one component')
    r.figure('q4/failure_ruled_background.png',
             'Assumption 2 broken: a dark ruled background joins the letters into one component')


def q5(r):
    r.section('q5', 'Q5: image compression with an autoencoder')
    m = r.metrics('q5')
    if m is None:
        return r.missing('python python/run_q5.py')
    r.add(NIST_NOTE, '')
    r.add(f'Autoencoder {"-".join(map(str, m["architecture"]))} (ReLU hidden, sigmoid output), total '
          f'squared error, momentum {m["momentum"]}, lr {m["lr"]} ({m["lr_schedule"]}), batch '
          f'{m["batch_size"]}, {m["epochs"]} epochs, seed {m["seed"]}; {m["params"]:,} parameters; '
          f'{secs(m["seconds"])}.', '')
    r.add(f'**Q5.3.2 average validation PSNR: {m["valid_psnr"]:.2f} dB** '
          f'(test: {m["test_psnr"]:.2f} dB). Training loss per image: '
          f'{m["initial_train_loss"]:.1f} after the first epoch -> {m["final_train_loss"]:.1f}.', '')
    r.add(f'Gradient check on the autoencoder (relu layers included): worst relative error '
          f'{m["gradcheck_worst"]:.2e} ({"pass" if m["gradcheck_pass"] else "FAIL"}).', '')
    r.figure('q5/loss.png', 'Q5.2: training loss')
    r.figure('q5/reconstructions.png',
             f'Q5.3.1: validation images of classes {", ".join(m["shown_classes"])} and their reconstructions')


def q6(r):
    r.section('q6', 'Q6: comparing against PCA')
    m = r.metrics('q6')
    if m is None:
        return r.missing('python python/run_q6.py')
    r.add(NIST_NOTE, '')
    shape = ' x '.join(map(str, m['projection_shape']))
    r.add(f'**Q6.1** The projection matrix is {shape} with rank {m["projection_rank"]} '
          f'(its {m["components"]} components explain {pct(m["explained_variance"])} of the '
          'training variance).', '')
    r.table(['', 'PCA (32 components)', 'autoencoder'],
            [['valid PSNR', f'{m["pca_valid_psnr"]:.2f} dB', f'{m["ae_valid_psnr"]:.2f} dB'],
             ['test PSNR', f'{m["pca_test_psnr"]:.2f} dB', f'{m["ae_test_psnr"]:.2f} dB'],
             ['learned parameters', f'{m["pca_params"]:,}', f'{m["ae_params"]:,}']])
    r.add(f'PCA parameters counted: {m["pca_params_counted"]}.', '')
    r.figure('q6/reconstructions_valid.png', 'Q6.2: validation images, PCA and autoencoder reconstructions')
    r.figure('q6/reconstructions_test.png', 'Q6.2 (older edition): test images, PCA and autoencoder')


Q7_1_PARTS = [('fc_nist36', 'Q7.1.1 FC network on NIST36'), ('cnn_mnist', 'Q7.1.2 CNN on MNIST'),
              ('cnn_nist36', 'Q7.1.3 CNN on NIST36'), ('cnn_emnist', 'Q7.1.4 CNN on EMNIST Balanced'),
              ('cnn_cifar10', 'CNN on CIFAR-10 (later edition)')]


def q7_1(r):
    r.section('q7-1', 'Q7.1: PyTorch')
    rows = []
    for part, title in Q7_1_PARTS:
        m = r.metrics(f'q7_1/{part}')
        if m is None:
            rows.append([title, '–', '–', '–', '–', 'not run' + (' (CIFAR-10 is not in the offline '
                                                                 'mirror)' if part == 'cnn_cifar10' else '')])
            continue
        rows.append([title, pct(m.get('train_acc')), pct(m.get('valid_acc')), pct(m.get('test_acc')),
                     f'{m.get("trainable_params", 0):,}', secs(m.get('seconds'))])
    r.table(['part', 'train acc', 'valid acc', 'test acc', 'parameters', 'time'], rows)
    r.add(NIST_NOTE, '', EMNIST_NOTE, '')
    q3m = r.metrics('q3')
    if q3m:
        r.add(f'For comparison, the numpy network of Q3: valid {pct(q3m["valid_acc"])}, '
              f'test {pct(q3m["test_acc"])}.', '')
    for part, title in Q7_1_PARTS:
        m = r.metrics(f'q7_1/{part}')
        if m is None:
            continue
        r.add(f'### {title}', '')
        for key in ('optimizer', 'augmentation'):
            if m.get(key):
                r.add(f'- {key}: {m[key]}')
        r.add(f'- epochs {m.get("epochs")}, batch {m.get("batch_size")}, lr {m.get("lr")}, '
              f'seed {m.get("seed")}, {m.get("torch_threads", "?")} CPU threads', '')
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
    r.section('q7-2', 'Q7.2: fine-tuning SqueezeNet on Oxford Flowers 17')
    m = r.metrics('q7_2')
    if m is None:
        return r.missing('python python/run_q7_2.py')
    r.add(f'Weights used: {m["weights_used"]}. Data: all 1360 Oxford Flowers 17 photos, split 40/20/20 '
          'per class (a seeded split, not the official datasplits.mat).', '')
    rows = [['fine-tuned SqueezeNet (new final layer only)', pct(m.get('finetune_val_acc')),
             pct(m['finetune_test_acc']), f'{m.get("finetune_trainable_params", 0):,}',
             secs(m.get('finetune_seconds'))],
            ['from scratch (3 conv + 2 fc)', pct(m.get('scratch_val_acc')), pct(m['scratch_test_acc']),
             f'{m.get("scratch_trainable_params", 0):,}', secs(m.get('scratch_seconds'))]]
    if 'unfrozen_test_acc' in m:
        rows.append(['fine-tuned SqueezeNet, then every layer unfrozen', pct(m.get('unfrozen_val_acc')),
                     pct(m['unfrozen_test_acc']), f'{m.get("unfrozen_trainable_params", 0):,}',
                     secs(m.get('unfrozen_seconds'))])
    r.table(['model', 'val acc', 'test acc', 'trainable parameters', 'training time'], rows)
    r.add(f'Fine-tuning time includes computing the frozen backbone\'s features once '
          f'({secs(m.get("finetune_feature_seconds"))}). Seed {m["seed"]}.', '')
    for name in sorted(p.name for p in (r.root / 'q7_2').glob('*.png')):
        r.figure(f'q7_2/{name}', name[:-4].replace('_', ' '))


def timings(r):
    path = r.root / 'timings.tsv'
    r.section('timings', 'Timings of the last `make all`')
    if not path.exists():
        return r.add('*No timings: run `make all` (scripts/run_all.sh) to record them.*', '')
    rows = [line.split('\t') for line in path.read_text().splitlines()[1:] if line.strip()]
    r.table(['step', 'status', 'seconds'], rows)


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f'{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}'


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
    for part in (q2, q3, q4, q5, q6, q7_1, q7_2, timings):
        part(r)
    return '\n'.join(r.lines).rstrip() + '\n'


def headline_rows(r, times):
    """(question, headline, time) rows for the README's results table; the
    time is the main job's step (times: {step: '12 s'}) or a part's own."""
    def get(rel, *keys):
        m = r.metrics(rel)
        for k in keys:
            if m is None or k not in m:
                return None
            m = m[k]
        return m

    rows = [('Q2 gradient check', f'worst relative error {get("q2", "gradcheck_worst") or 0:.1e}', times.get('q2', '')),
            ('Q3 NIST36 MLP (numpy)', f'valid {pct(get("q3", "valid_acc"))}, test {pct(get("q3", "test_acc"))}',
             times.get('q3', '')),
            ('Q4 text from photos, Q3 MLP', f'char. accuracy {pct(get("q4", "mean_char_accuracy"))} '
             f'(network alone {pct(get("q4", "mean_char_accuracy_raw"))})', times.get('q4', '')),
            ('Q5 autoencoder', f'valid PSNR {get("q5", "valid_psnr") or 0:.2f} dB', times.get('q5', '')),
            ('Q6 PCA, 32 components', f'valid PSNR {get("q6", "pca_valid_psnr") or 0:.2f} dB', times.get('q6', ''))]
    for part, title in Q7_1_PARTS[:4]:
        rows.append((title, f'test {pct(get(f"q7_1/{part}", "test_acc"))}',
                     secs(get(f'q7_1/{part}', 'seconds'))))
    rows.append(('Q4 text from photos, EMNIST CNN', f'char. accuracy {pct(get("q4_emnist", "mean_char_accuracy"))} '
                 f'(network alone {pct(get("q4_emnist", "mean_char_accuracy_raw"))})', times.get('q4-emnist', '')))
    rows.append(('Q7.2 SqueezeNet fine-tuned / from scratch',
                 f'test {pct(get("q7_2", "finetune_test_acc"))} / {pct(get("q7_2", "scratch_test_acc"))}',
                 times.get('q7.2', '')))
    return rows


def readme_table(root):
    """The README's results table, from the metrics and the last run's timings."""
    r = Report(root)
    times = {}
    if (r.root / 'timings.tsv').exists():
        for line in (r.root / 'timings.tsv').read_text().splitlines()[1:]:
            step, status, seconds = line.split('\t')
            times[step] = f'{float(seconds):.0f} s' if status == 'ok' else status
    q71 = r.metrics('q7_1/cnn_emnist') and times.get('q7.1')
    lines = ['## Results', '',
             f'Measured by `make all` on {machine()}, {datetime.date.today()}; written into this '
             'README by `python python/make_report.py --update-readme` from `results/*/metrics.json`. '
             'NIST36 and EMNIST are stand-ins (see [Data](#data)); details and figures in '
             '`results/REPORT.md`.', '',
             '| question | result | time |', '|---|---|---|']
    for title, headline, time_cell in headline_rows(r, times):
        lines.append(f'| {title} | {headline} | {time_cell} |')
    if q71:
        lines.append(f'| (all Q7.1 parts together) | | {times["q7.1"]} |')
    total = sum(float(t[:-2]) for t in times.values() if t.endswith(' s'))
    if times:
        lines.append(f'| **whole `make all` chain** (without set-up) | | {total / 60:.1f} min |')
    fc, cnn = r.metrics('q7_1/fc_nist36'), r.metrics('q7_1/cnn_nist36')
    if fc and cnn:
        lines += ['', '**NIST36, fully connected vs convolutional (Q7.1.3), PyTorch on the CPU:**', '',
                  '| network | valid acc | test acc | parameters | training time |', '|---|---|---|---|---|']
        for name, m in (('FC 1024-64-36 (sigmoid)', fc), ('CNN (3 conv blocks, augmentation)', cnn)):
            lines.append(f'| {name} | {pct(m["valid_acc"])} | {pct(m["test_acc"])} | '
                         f'{m["trainable_params"]:,} | {secs(m["train_seconds"])} |')
    return '\n'.join(lines)


def update_readme(root, readme=REPO_ROOT / 'README.md'):
    start, end = '<!-- results:start -->', '<!-- results:end -->'
    text = readme.read_text()
    if start not in text or end not in text:
        raise SystemExit(f'{readme} has no {start} ... {end} markers')
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(f'{before}{start}\n{readme_table(root)}\n{end}{after}')
    print(f'updated the results table in {readme}')


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--results', type=Path, default=RESULTS_DIR, help='results folder to report on')
    p.add_argument('--update-readme', action='store_true',
                   help="also rewrite the README's results table from these results")
    args = p.parse_args()
    if not args.results.is_dir():
        raise SystemExit(f'error: {args.results} is not a folder; run the questions first (make all)')
    out = args.results / 'REPORT.md'
    out.write_text(build(args.results))
    print(f'wrote {out}')
    if args.update_readme:
        update_readme(args.results)


if __name__ == '__main__':
    main()
