"""What the scripts, the report and the README say about the questions, written
once: the notices for the stand-in datasets, the titles of the Q7.1 parts,
and the command that makes each results folder.

Plain strings only (no numpy, no torch), so the report imports it for free.
"""

# The mirror's NIST36 and EMNIST files are stand-ins for the official ones
# (see README.md, "Data"); every number measured on them says so.
NIST36_NOTE = ('NIST36 stand-in: real NIST handwriting (Special Database 19, via EMNIST), upper-case '
               'letters and digits, converted to the course format; numbers are comparable to, not '
               'the same as, those on the course\'s own files')
EMNIST_NOTE = ('EMNIST Balanced stand-in: real EMNIST images of the 47 classes, capped at 2400 train '
               'and 400 test per class (92,551 / 15,414); close to, not the same as, the official '
               'benchmark')

# run_q7_1.py PART -> its title, in the handout's order.
Q7_1_TITLES = {
    'fc_nist36': 'Q7.1.1 FC network on NIST36 (stand-in)',
    'cnn_mnist': 'Q7.1.2 CNN on MNIST',
    'cnn_nist36': 'Q7.1.3 CNN on NIST36 (stand-in)',
    'cnn_emnist': 'Q7.1.4 CNN on EMNIST Balanced (stand-in)',
    'cnn_cifar10': 'CNN on CIFAR-10 (later edition)',
}

# Results folder -> the script (and arguments) that writes it, as
# `python python/<this>` runs it.
MADE_BY = {
    'q2': 'run_q2.py',
    'q3': 'run_q3.py',
    'q4': 'run_q4.py',
    'q4_emnist': 'run_q4.py --classifier emnist',
    'q5': 'run_q5.py',
    'q6': 'run_q6.py',
    **{f'q7_1/{part}': f'run_q7_1.py {part}' for part in Q7_1_TITLES},
    'q7_2': 'run_q7_2.py',
}
