import numpy as np
import skimage.color
import skimage.filters
import skimage.measure

print("q4 imported")


def findLetters(image):
    gray = skimage.color.rgb2gray(image)
    ink = gray < skimage.filters.threshold_otsu(gray)
    boxes = [r.bbox for r in skimage.measure.regionprops(skimage.measure.label(ink)) if r.area > 50]
    return np.array(boxes), ink                             # bw: bool, characters white
