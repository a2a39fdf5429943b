"""libnnfs: Python binding (ctypes) of the libnnfs C library.

    import libnnfs as nn
    X, y = nn.spiral_data(100, 3)
    net = nn.Net([2, 64, 3], ["relu", "softmax"], seed=0)
    hist = net.fit(X, labels=y, optimizer=nn.Adam(net, learning_rate=0.02),
                   epochs=200)
    print(hist["loss"][-1], hist["accuracy"][-1])

Threads: each Net (with its optimizers) and each PCA has one lock held
across every C call on it, so calls from several threads take turns and
close() waits for a call in progress; closing a net from its own fit's
callback raises StateError.  Scalar arguments are checked (type, range, NUL
bytes in paths) before ctypes converts them.

The shared library is found through LIBNNFS_PATH, then next to the
package or in a source checkout's build*/ directories, then the system's
loader (ctypes.util.find_library("nnfs"), "libnnfs.so.0").
"""

from ._core import *  # noqa: F401,F403
from ._core import __all__, library_path  # noqa: F401

from ._version import __version__  # noqa: F401,E402
