import numpy as np


def linear(x):
    return x


def linear_deriv(post_act):
    return np.ones_like(post_act)
