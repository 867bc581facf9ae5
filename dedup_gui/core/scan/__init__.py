"""Scanning: roots and options in, decoded model-ready frames out.

discovery (folders -> VideoFile | Problem) -> identical files (byte-identical sets) -> sampling
plan (which timestamps, how to reach them) -> decode/ (one backend contract, PyAV and OpenCV)
-> frames (blank test, border removal, model input) in isolated worker processes (workers).
"""
