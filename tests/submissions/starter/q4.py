import numpy as np
import skimage


def findLetters(image):
    bboxes = []
    bw = None
    ##### your code here #####
    return bboxes, bw
