# The starter's shape: every function still returns its placeholder
# (sigmoid_deriv, which the starter gives, is the only one written).
import numpy as np
from util import *


def initialize_weights(in_size, out_size, params, name=''):
    W, b = None, None
    ##### your code here #####
    params['W' + name] = W
    params['b' + name] = b


def sigmoid(x):
    res = None
    ##### your code here #####
    return res


def forward(X, params, name='', activation=sigmoid):
    pre_act, post_act = None, None
    W, b = params['W' + name], params['b' + name]
    ##### your code here #####
    params['cache_' + name] = (X, pre_act, post_act)
    return post_act


def softmax(x):
    res = None
    ##### your code here #####
    return res


def compute_loss_and_acc(y, probs):
    loss, acc = None, None
    ##### your code here #####
    return loss, acc


def sigmoid_deriv(post_act):
    return post_act * (1.0 - post_act)


def backwards(delta, params, name='', activation_deriv=sigmoid_deriv):
    grad_X, grad_W, grad_b = None, None, None
    X, pre_act, post_act = params['cache_' + name]
    ##### your code here #####
    params['grad_W' + name] = grad_W
    params['grad_b' + name] = grad_b
    return grad_X


def get_random_batches(x, y, batch_size):
    batches = []
    ##### your code here #####
    return batches
