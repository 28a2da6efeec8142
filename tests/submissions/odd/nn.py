import ctypes
import sys

import numpy as np
from util import *

print("starting nn.py")
open("debug_log.txt", "a").write("nn.py imported\n")       # writes into the working folder


def initialize_weights(in_size, out_size, params, name='', seed=None):
    a = np.sqrt(6 / (in_size + out_size))
    params['W' + name] = np.random.uniform(-a, a, (in_size, out_size))
    params['b' + name] = np.zeros((1, out_size))            # 2-D bias


def sigmoid(x):
    answer = input("sigmoid of what? ")                     # waits for a user
    return 1 / (1 + np.exp(-x))


def forward(X, params, name='', activation=sigmoid):
    for i in range(100000):                                 # a print flood
        print("debug", i)
    pre_act = X @ params['W' + name] + params['b' + name]
    post_act = activation(pre_act)
    params['cache_' + name] = (X, pre_act, post_act)
    return post_act.tolist()                                # a list, not an array


def softmax(x):
    while True:                                             # never returns
        pass


def compute_loss_and_acc(y, probs):
    loss = -np.mean(np.sum(y * np.log(probs), axis=1))     # the mean, not the sum
    acc = np.sum(np.argmax(y, 1) == np.argmax(probs, 1))    # a count, not a fraction
    return [loss, acc]


def sigmoid_deriv(post_act):
    ctypes.string_at(0)                                     # crashes the interpreter
    return post_act * (1 - post_act)


def backwards(delta, params, name='', activation_deriv=sigmoid_deriv):
    X, pre_act, post_act = params['cache_' + name]
    d = delta * activation_deriv(post_act)
    params['grad_W' + name] = X.T @ d
    params['grad_b' + name] = np.sum(d, axis=0, keepdims=True)   # shape (1, H)
    return (d @ params['W' + name].T).tolist()

# get_random_batches: not written
