import numpy as np
from util import *
import matplotlib.pyplot as plt
# do not include any more libraries here!
print("nn.py loaded")
plt.plot([0, 1], [0, 1])
plt.show()

############################## Q 2.1 ##############################
# initialize b to 0 vector
# b should be a 1D array, not a 2D array with a singleton dimension
# we will do XW + b.
# X be [Examples, Dimensions]
def initialize_weights(in_size,out_size,params,name=''):
    W, b = None, None
    bound = np.sqrt(6) / np.sqrt(in_size + out_size)
    W = np.random.uniform(-bound, bound, (in_size, out_size))
    b = np.zeros(out_size)
    params['W' + name] = W
    params['b' + name] = b

############################## Q 2.2.1 ##############################
# x is a matrix
# a sigmoid activation function
def sigmoid(x):
    res = None
    res = 1.0 / (1.0 + np.exp(-x))
    return res

############################## Q 2.2.1 ##############################
def forward(X,params,name='',activation=sigmoid, verbose=False):
    """
    Do a forward pass

    Keyword arguments:
    X -- input vector [Examples x D]
    params -- a dictionary containing parameters
    name -- name of the layer
    activation -- the activation function (default is sigmoid)
    """
    pre_act, post_act = None, None
    # get the layer parameters
    W = params['W' + name]
    b = params['b' + name]
    print("forward", name, X.shape, W.shape)
    pre_act = np.dot(X, W) + b
    post_act = activation(pre_act)
    # store the pre-activation and post-activation values
    # these will be important in backprop
    params['cache_' + name] = (X, pre_act, post_act)

    return post_act

############################## Q 2.2.2  ##############################
# x is [examples,classes]
# softmax should be done for each row
def softmax(x):
    res = None
    c = -np.max(x, axis=1).reshape(-1, 1)
    res = np.exp(x + c)
    res = res / np.sum(res, axis=1).reshape(-1, 1)
    return res

############################## Q 2.2.3 ##############################
# compute total loss and accuracy
# y is size [examples,classes]
# probs is size [examples,classes]
def compute_loss_and_acc(y, probs):
    loss, acc = None, None
    loss = -np.sum(y * np.log(probs))
    correct = 0
    for i in range(y.shape[0]):
        if np.argmax(y[i]) == np.argmax(probs[i]):
            correct += 1
    acc = correct / y.shape[0]
    return loss, acc

############################## Q 2.3 ##############################
# we give this to you
# because you proved it
# it's a function of post_act
def sigmoid_deriv(post_act):
    res = post_act*(1.0-post_act)
    return res

def backwards(delta,params,name='',activation_deriv=sigmoid_deriv):
    """
    Do a backwards pass

    Keyword arguments:
    delta -- errors to backprop
    params -- a dictionary containing parameters
    name -- name of the layer
    activation_deriv -- the derivative of the activation_func
    """
    grad_X, grad_W, grad_b = None, None, None
    # everything you may need for this layer
    W = params['W' + name]
    b = params['b' + name]
    X, pre_act, post_act = params['cache_' + name]
    # do the derivative through activation first
    # then compute the derivative W,b, and X
    d = delta * activation_deriv(post_act)
    grad_W = X.T.dot(d)
    grad_b = np.sum(d, axis=0)
    grad_X = d.dot(W.T)

    # store the gradients
    params['grad_W' + name] = grad_W
    params['grad_b' + name] = grad_b
    return grad_X

############################## Q 2.4 ##############################
# split x and y into random batches
# return a list of [(batch1_x,batch1_y)...]
def get_random_batches(x,y,batch_size):
    batches = []
    idx = np.arange(x.shape[0])
    np.random.shuffle(idx)
    for i in range(0, len(idx), batch_size):
        batches.append([x[idx[i:i+batch_size]], y[idx[i:i+batch_size]]])
    return batches
