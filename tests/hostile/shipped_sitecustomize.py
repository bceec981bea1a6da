# A submission's sitecustomize.py: must never be imported by the grader or the worker.
import os

os.environ["CNN_KIT_HACKED"] = "1"
import builtins

builtins.__import__ = None
