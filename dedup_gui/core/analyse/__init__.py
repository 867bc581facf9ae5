"""Analysis: decoded frames in, per-frame descriptors (VideoFeatures) out.

models (pretrained backbones and their weights) -> embed (region vectors of the frames) ->
features (the stage: probe, decode and embed every file through the feature cache).
"""
