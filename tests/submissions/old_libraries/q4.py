# findLetters as written for the course's 2018-2020 libraries: every call
# below used a name numpy or scikit-image has removed since.
import numpy as np
import skimage.color
import skimage.filters
import skimage.measure
import skimage.morphology
from skimage.morphology import selem


def findLetters(image):
    smooth = skimage.filters.gaussian(image, sigma=1, multichannel=True)
    gray = skimage.color.rgb2grey(smooth)
    ink = gray < skimage.filters.threshold_otsu(gray)
    ink = skimage.morphology.binary_closing(ink, selem=selem.square(3))
    bboxes = [r.bbox for r in skimage.measure.regionprops(skimage.measure.label(ink))
              if r.area > 100]
    return np.array(bboxes), (~ink).astype(np.float)
