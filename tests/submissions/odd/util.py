import numpy as np
from nn import *


def linear_deriv(post_act):
    return np.ones_like(post_act)
