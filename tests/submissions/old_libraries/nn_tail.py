

# get_random_batches as written for numpy < 1.19 (appended to a copy of nn.py
# by the test): np.delete ignored indices past the end then, it raises now; and
# an editor's auto-import from a module numpy 2 renamed.
from numpy.lib.function_base import _percentile_dispatcher  # noqa: E402,F401


def get_random_batches(x, y, batch_size):
    order = np.random.permutation(len(x))
    batches = []
    while order.size:
        batches.append((x[order[:batch_size]], y[order[:batch_size]]))
        order = np.delete(order, np.arange(batch_size))    # past the end on the last batch
    return batches
