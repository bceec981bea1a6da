hoard = []


class Net:
    def __init__(self, *args, **kwargs):
        while True:
            hoard.append(bytearray(256 << 20))


LeNet = Net
