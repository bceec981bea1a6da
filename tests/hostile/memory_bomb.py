hoard = []


class Net:
    def __init__(self):
        while True:
            hoard.append(bytearray(256 << 20))


LeNet = Net
