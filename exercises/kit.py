"""The kit's commands for students. Run them from the folder that holds exercises/:

    python exercises/kit.py progress     where you stand in every exercise, and what to do next
    python exercises/kit.py hint         the next hint of the check that fails now
    python exercises/kit.py watch        re-check each exercise as you save it (Ctrl-C to stop)
    python exercises/kit.py train        train your MNIST classifier and draw pictures of it
    python exercises/kit.py handin       check your work and pack it into one zip to hand in

Part of the kit, not an exercise: no need to edit.
"""

import sys

from _kit.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
