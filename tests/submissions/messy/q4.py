import numpy as np

import skimage
import skimage.measure
import skimage.color
import skimage.restoration
import skimage.filters
import skimage.morphology
import skimage.segmentation

# takes a color image
# returns a list of bounding boxes and black_and_white image
def findLetters(image):
    bboxes = []
    bw = None
    # insert processing in here
    # one idea estimate noise -> denoise -> greyscale -> threshold -> morphology -> label -> skip small boxes
    # this can be 10 to 15 lines of code using skimage functions
    image = skimage.filters.gaussian(image, sigma=1.5, channel_axis=-1)
    gray = skimage.color.rgb2gray(image)
    thresh = skimage.filters.threshold_otsu(gray)
    ink = skimage.morphology.closing(gray < thresh, skimage.morphology.square(5))  # deprecated: warns
    ink = skimage.segmentation.clear_border(ink)
    label_image = skimage.measure.label(ink)
    print("found", label_image.max(), "regions")
    for region in skimage.measure.regionprops(label_image):
        if region.area >= 100:
            bboxes.append(region.bbox)
    bw = (~ink).astype(float)
    return bboxes, bw
