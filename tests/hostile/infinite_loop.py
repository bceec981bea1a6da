class Net:
    def __init__(self):
        while True:
            pass


LeNet = Net
