"""ctypes binding of libnnfs's C API (include/nnfs.h).

Everything that touches the shared library lives here; __init__.py
re-exports the public names.
"""

import ctypes
import ctypes.util
import glob
import os
import sys
import weakref

import numpy as np

__all__ = [
    "NNError", "InvalidArgError", "ShapeError", "NoMemError", "NNIOError",
    "FormatError", "NonFiniteError", "StateError", "UnsupportedError",
    "Net", "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam",
    "PCA",
    "spiral_data", "vertical_data", "sine_data", "shuffle",
    "load_idx", "load_idx_labels", "loss", "accuracy",
    "version", "info", "set_num_threads", "get_num_threads", "library_path",
    "set_parallel_mode", "get_parallel_mode",
]

# ----------------------------------------------------------------- loading

_HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    env = os.environ.get("LIBNNFS_PATH")
    if env:
        # An explicit choice: use it or fail, never fall back silently.
        yield env
        return
    # Next to the package (a copy installed with it), then the build
    # directories of a source checkout (python/libnnfs/../../build*).
    for pat in ("libnnfs.so.0", "libnnfs.so"):
        yield os.path.join(_HERE, pat)
    try:  # written by cmake --install (NNFS_INSTALL_PYTHON)
        from ._install_paths import LIBDIR
        yield os.path.join(LIBDIR, "libnnfs.so.0")
    except ImportError:
        pass
    root = os.path.dirname(os.path.dirname(_HERE))
    # a source checkout's build directories, the most recently built first
    built = glob.glob(os.path.join(root, "build*", "libnnfs.so.0"))
    for lib in sorted(built, key=os.path.getmtime, reverse=True):
        yield lib
    found = ctypes.util.find_library("nnfs")
    if found:
        yield found
    yield "libnnfs.so.0"


def _load():
    tried = []
    env = os.environ.get("LIBNNFS_PATH")
    for c in _candidates():
        if os.sep in c and not os.path.exists(c):
            tried.append(c + " (missing)")
            continue
        try:
            return ctypes.CDLL(c), c
        except OSError as e:
            tried.append("%s (%s)" % (c, e))
    hint = ("LIBNNFS_PATH=%s could not be loaded" % env) if env else \
        "set LIBNNFS_PATH to the path of libnnfs.so"
    raise ImportError("libnnfs: cannot load the shared library; %s; tried: %s"
                      % (hint, "; ".join(tried)))


_lib, library_path = _load()

_sz = ctypes.c_size_t
_i32 = ctypes.c_int32
_int = ctypes.c_int
_u64 = ctypes.c_uint64
_dbl = ctypes.c_double
_flt = ctypes.c_float
_vp = ctypes.c_void_p
_cp = ctypes.c_char_p
_P = ctypes.POINTER

PROGRESS_FN = ctypes.CFUNCTYPE(_int, _vp, _vp, _i32)

_PROTOS = {
    "nn_version": (_cp, []),
    "nn_version_number": (ctypes.c_uint, []),
    "nn_strerror": (_cp, [_int]),
    "nn_last_error": (_cp, []),
    "nn_info": (_cp, [_i32]),
    "nn_set_num_threads": (_int, [_int]),
    "nn_get_num_threads": (_int, []),
    "nn_set_parallel_mode": (_int, [_i32]),
    "nn_get_parallel_mode": (_i32, []),
    "nn_net_create": (_int, [_P(_vp), _sz, _P(_sz), _P(_i32), _u64]),
    "nn_net_init": (_int, [_vp, _sz, _i32, _dbl, _u64]),
    "nn_net_destroy": (None, [_vp]),
    "nn_net_num_layers": (_sz, [_vp]),
    "nn_net_layer_inputs": (_sz, [_vp, _sz]),
    "nn_net_layer_outputs": (_sz, [_vp, _sz]),
    "nn_net_layer_activation": (_i32, [_vp, _sz]),
    "nn_net_num_params": (_sz, [_vp]),
    "nn_net_get_params": (_int, [_vp, _sz, _vp, _vp]),
    "nn_net_set_params": (_int, [_vp, _sz, _vp, _vp]),
    "nn_net_get_grads": (_int, [_vp, _sz, _vp, _vp]),
    "nn_net_get_grad_block": (_int, [_vp, _vp, _sz]),
    "nn_net_set_grad_block": (_int, [_vp, _vp, _sz]),
    "nn_forward": (_int, [_vp, _vp, _sz, _vp]),
    "nn_backward": (_int, [_vp, _i32, _vp, _P(_flt)]),
    "nn_backward_labels": (_int, [_vp, _vp, _P(_flt)]),
    "nn_sgd_step": (_int, [_vp, _flt]),
    "nn_backward_sgd": (_int, [_vp, _i32, _vp, _flt, _P(_flt)]),
    "nn_backward_labels_sgd": (_int, [_vp, _vp, _flt, _P(_flt)]),
    "nn_net_set_layer_option": (_int, [_vp, _sz, _i32, _dbl]),
    "nn_net_get_layer_option": (_int, [_vp, _sz, _i32, _P(_dbl)]),
    "nn_net_regularization_loss": (_int, [_vp, _P(_flt)]),
    "nn_net_fit_readout": (_int, [_vp, _vp, _vp, _sz, _dbl, _P(_i32),
                                  _P(_dbl)]),
    "nn_net_layer_singular_values": (_int, [_vp, _sz, _vp, _sz, _P(_sz)]),
    "nn_net_layer_spectral_norm": (_int, [_vp, _sz, _P(_dbl)]),
    "nn_optimizer_create": (_int, [_P(_vp), _vp, _i32]),
    "nn_optimizer_destroy": (None, [_vp]),
    "nn_optimizer_set": (_int, [_vp, _i32, _dbl]),
    "nn_optimizer_get": (_int, [_vp, _i32, _P(_dbl)]),
    "nn_optimizer_step": (_int, [_vp]),
    "nn_optimizer_reset": (_int, [_vp]),
    "nn_predict": (_int, [_vp, _vp, _sz, _vp]),
    "nn_accuracy": (_int, [_vp, _sz, _sz, _vp, _P(_flt)]),
    "nn_loss_compute": (_int, [_i32, _vp, _vp, _sz, _sz, _P(_flt)]),
    "nn_loss_compute_labels": (_int, [_vp, _vp, _sz, _sz, _P(_flt)]),
    "nn_data_spiral": (_int, [_vp, _vp, _sz, _sz, _u64]),
    "nn_data_vertical": (_int, [_vp, _vp, _sz, _sz, _u64]),
    "nn_data_sine": (_int, [_vp, _vp, _sz]),
    "nn_data_shuffle": (_int, [_vp, _sz, _sz, _vp, _sz, _vp, _u64]),
    "nn_idx_info": (_int, [_cp, _P(_sz), _P(_sz)]),
    "nn_idx_read": (_int, [_cp, _vp, _sz, _sz, _i32]),
    "nn_idx_read_labels": (_int, [_cp, _vp, _sz]),
    "nn_trainer_create": (_int, [_P(_vp), _vp, _vp]),
    "nn_trainer_destroy": (None, [_vp]),
    "nn_trainer_set": (_int, [_vp, _i32, _dbl]),
    "nn_trainer_set_callback": (_int, [_vp, PROGRESS_FN, _vp]),
    "nn_trainer_metric": (_int, [_vp, _i32, _P(_dbl)]),
    "nn_trainer_fit": (_int, [_vp, _vp, _vp, _vp, _sz, _vp, _vp, _vp, _sz]),
    "nn_net_save": (_int, [_vp, _cp]),
    "nn_net_load": (_int, [_P(_vp), _cp]),
    "nn_net_save_buffer": (_int, [_vp, _vp, _sz, _P(_sz)]),
    "nn_net_load_buffer": (_int, [_P(_vp), _vp, _sz]),
    "nn_pca_fit": (_int, [_P(_vp), _vp, _sz, _sz, _sz, _i32, _dbl]),
    "nn_pca_destroy": (None, [_vp]),
    "nn_pca_transform": (_int, [_vp, _vp, _sz, _vp]),
    "nn_pca_inverse_transform": (_int, [_vp, _vp, _sz, _vp]),
    "nn_pca_num_features": (_sz, [_vp]),
    "nn_pca_num_components": (_sz, [_vp]),
    "nn_pca_get_params": (_int, [_vp, _vp, _vp]),
    "nn_pca_get_variance": (_int, [_vp, _vp, _vp]),
    "nn_pca_get_settings": (_int, [_vp, _P(_i32), _P(_dbl)]),
    "nn_pca_save": (_int, [_vp, _cp]),
    "nn_pca_load": (_int, [_P(_vp), _cp]),
    "nn_pca_save_buffer": (_int, [_vp, _vp, _sz, _P(_sz)]),
    "nn_pca_load_buffer": (_int, [_P(_vp), _vp, _sz]),
}

for _name, (_res, _args) in _PROTOS.items():
    _f = getattr(_lib, _name)
    _f.restype = _res
    _f.argtypes = _args

# ------------------------------------------------------------------ errors


class NNError(Exception):
    """A libnnfs call failed.  status: the NN_ERR_* code; status_name: its
    name; message: nn_last_error()'s text (names function and argument)."""
    status = -1
    status_name = "NN_ERR_UNKNOWN"

    def __init__(self, message, status=None):
        if status is not None:
            self.status = status
        self.message = message
        super().__init__("%s: %s" % (self.status_name, message))


class InvalidArgError(NNError, ValueError):
    status, status_name = 1, "NN_ERR_INVALID_ARG"


class ShapeError(NNError, ValueError):
    status, status_name = 2, "NN_ERR_SHAPE"


class NoMemError(NNError, MemoryError):
    status, status_name = 3, "NN_ERR_NOMEM"


class NNIOError(NNError, OSError):
    status, status_name = 4, "NN_ERR_IO"


class FormatError(NNError, ValueError):
    status, status_name = 5, "NN_ERR_FORMAT"


class NonFiniteError(NNError, ValueError):
    status, status_name = 6, "NN_ERR_NONFINITE"


class StateError(NNError, RuntimeError):
    status, status_name = 7, "NN_ERR_STATE"


class UnsupportedError(NNError):
    status, status_name = 8, "NN_ERR_UNSUPPORTED"


_ERRORS = {c.status: c for c in (InvalidArgError, ShapeError, NoMemError,
                                 NNIOError, FormatError, NonFiniteError,
                                 StateError, UnsupportedError)}


def _check(status):
    if status != 0:
        msg = _lib.nn_last_error()
        msg = msg.decode("utf-8", "replace") if msg else ""
        cls = _ERRORS.get(status, NNError)
        if cls is NNError:
            raise NNError("status %d: %s" % (status, msg), status)
        raise cls(msg)


# ------------------------------------------------------------ array inputs

def _as_array(a, dtype, name, shape=None, allow_1d_row=False):
    """Return a C-contiguous array of dtype for a read-only input: the
    object itself when it already has that layout (no copy), else one
    converted copy.  Raises TypeError for dtypes that cannot be converted
    without loss of meaning, ShapeError for a wrong shape."""
    arr = np.asarray(a)
    k = arr.dtype.kind
    if dtype == np.float32:
        if k not in "fiu":
            raise TypeError("libnnfs: %s must hold real numbers (float32 "
                            "preferred), got dtype %s" % (name, arr.dtype))
    else:
        if k not in "iu":
            raise TypeError("libnnfs: %s must be integer class labels "
                            "(int32 preferred), got dtype %s"
                            % (name, arr.dtype))
        if arr.size and (arr.min() < -2**31 or arr.max() >= 2**31):
            raise ShapeError("%s: label values do not fit in int32" % name)
    if allow_1d_row and shape is not None and arr.ndim == 1 \
            and len(shape) == 2:
        arr = arr.reshape(1, -1)
    if shape is not None:
        if arr.ndim != len(shape) or any(
                want is not None and got != want
                for got, want in zip(arr.shape, shape)):
            raise ShapeError("%s: expected shape %s, got %s" % (
                name, tuple("n" if s is None else s for s in shape),
                arr.shape))
    if arr.dtype != dtype or not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr, dtype=dtype)
    return arr


def _save_bytes(save_buffer, handle):
    """The image an nn_*_save_buffer call writes, as bytes (size query,
    then the write)."""
    n = _sz()
    _check(save_buffer(handle, None, 0, ctypes.byref(n)))
    buf = ctypes.create_string_buffer(n.value)
    _check(save_buffer(handle, buf, n.value, ctypes.byref(n)))
    return buf.raw[:n.value]


def _load_bytes(load_buffer, data):
    """The new handle an nn_*_load_buffer call makes from data."""
    data = bytes(data)
    h = _vp()
    _check(load_buffer(ctypes.byref(h), data, len(data)))
    return h


def _out_array(out, shape, name="out"):
    """An output buffer: a new float32 array, or the caller's, which must be
    exactly float32, C-contiguous, writeable and of the right shape (we
    write into it in place, so it cannot be converted)."""
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if not isinstance(out, np.ndarray):
        raise TypeError("libnnfs: %s must be a numpy.ndarray" % name)
    if out.dtype != np.float32:
        raise TypeError("libnnfs: %s must have dtype float32, got %s"
                        % (name, out.dtype))
    if not out.flags.c_contiguous:
        raise ValueError("libnnfs: %s must be C-contiguous (it is written "
                         "in place)" % name)
    if not out.flags.writeable:
        raise ValueError("libnnfs: %s is read-only" % name)
    if out.shape != tuple(shape):
        raise ShapeError("%s: expected shape %s, got %s"
                         % (name, tuple(shape), out.shape))
    return out


def _ptr(a):
    return None if a is None else a.ctypes.data


# -------------------------------------------------------------- constants

ACTIVATIONS = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3,
               "softmax": 4}
_ACT_NAMES = {v: k for k, v in ACTIVATIONS.items()}
LOSSES = {"cce": 0, "categorical_crossentropy": 0, "bce": 1,
          "binary_crossentropy": 1, "mse": 2, "mae": 3}
INITS = {"default": 0, "normal": 1, "uniform": 2, "orthogonal": 3}
LAYER_OPTIONS = {"l1_weights": 0, "l2_weights": 1, "l1_biases": 2,
                 "l2_biases": 3, "dropout": 4}
OPT_SETTINGS = {"learning_rate": 0, "decay": 1, "momentum": 2,
                "epsilon": 3, "rho": 4, "beta1": 5, "beta2": 6,
                "iterations": 7}
ACCURACY = {"none": 0, "categorical": 1, "binary": 2, "regression": 3}
SCALES = {"none": 0, "unit": 1, "symmetric": 2}


def _lookup(table, value, what):
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise ValueError("libnnfs: unknown %s %r; one of %s"
                             % (what, value, ", ".join(sorted(table))))
    return int(value)


# -------------------------------------------------------------- the handle

class _Handle:
    """Owns one C handle; freed by close(), by `with`, or by the GC.  The
    destroy function is kept on the instance so __del__ works while the
    interpreter shuts down and module globals are gone."""
    _h = None

    def _own(self, h, destroy):
        self._h = h
        self._destroy = destroy

    @property
    def handle(self):
        if not self._h:
            raise StateError("%s is closed" % type(self).__name__)
        return self._h

    @property
    def closed(self):
        return not self._h

    def close(self):
        h, self._h = self._h, None
        if h:
            self._destroy(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


# -------------------------------------------------------------------- Net

class Net(_Handle):
    """A dense network: Net([2, 64, 3], ["relu", "softmax"], seed=0).

    sizes: input width then each layer's width; activations: one per layer
    (linear, relu, sigmoid, tanh, softmax).  init="normal", gain=0.01 gives
    the course's 0.01 * randn weights."""

    def __init__(self, sizes, activations, seed=0, init=None, gain=1.0):
        sizes = [int(s) for s in sizes]
        acts = [_lookup(ACTIVATIONS, a, "activation") for a in activations]
        if len(acts) != len(sizes) - 1:
            raise ShapeError("Net: %d sizes need %d activations, got %d"
                             % (len(sizes), len(sizes) - 1, len(acts)))
        if any(s < 0 for s in sizes):
            raise InvalidArgError("Net: sizes must not be negative: %s"
                                  % sizes)
        h = _vp()
        _check(_lib.nn_net_create(
            ctypes.byref(h), len(acts), (_sz * len(sizes))(*sizes),
            (_i32 * max(1, len(acts)))(*acts), _u64(int(seed) % 2**64)))
        self._adopt(h)
        if init is not None:
            self.init(init, gain=gain, seed=seed)

    def _adopt(self, h):
        self._own(h.value, _lib.nn_net_destroy)
        self._dependents = weakref.WeakSet()
        self._batch = 0

    @classmethod
    def _from_handle(cls, h):
        self = cls.__new__(cls)
        self._adopt(h)
        return self

    def close(self):
        # Optimizers refer to the net: free them first.
        for d in list(getattr(self, "_dependents", ())):
            d.close()
        super().close()

    # ---- shape
    @property
    def num_layers(self):
        return _lib.nn_net_num_layers(self.handle)

    @property
    def sizes(self):
        h = self.handle
        n = _lib.nn_net_num_layers(h)
        return [_lib.nn_net_layer_inputs(h, 0)] + \
            [_lib.nn_net_layer_outputs(h, i) for i in range(n)]

    @property
    def activations(self):
        h = self.handle
        return [_ACT_NAMES.get(_lib.nn_net_layer_activation(h, i), "?")
                for i in range(_lib.nn_net_num_layers(h))]

    @property
    def num_params(self):
        return _lib.nn_net_num_params(self.handle)

    @property
    def n_in(self):
        return _lib.nn_net_layer_inputs(self.handle, 0)

    @property
    def n_out(self):
        h = self.handle
        return _lib.nn_net_layer_outputs(h, _lib.nn_net_num_layers(h) - 1)

    def __repr__(self):
        if self.closed:
            return "Net(<closed>)"
        return "Net(%s, %s)" % (self.sizes, self.activations)

    def _layer(self, layer):
        n = self.num_layers
        i = int(layer)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("layer %d out of range for %d layers"
                             % (layer, n))
        return i

    # ---- parameters
    def init(self, scheme="default", gain=1.0, seed=0, layer=None):
        """Re-draw weights (biases to 0): scheme default/normal/uniform/
        orthogonal (gain * a Haar-random orthogonal matrix, LAPACK QR)."""
        li = ctypes.c_size_t(-1).value if layer is None else self._layer(layer)
        _check(_lib.nn_net_init(self.handle, li,
                                _lookup(INITS, scheme, "init scheme"),
                                float(gain), _u64(int(seed) % 2**64)))

    def get_weights(self, layer):
        """(weights [n_in, n_out], biases [n_out]) of a layer, as copies."""
        i = self._layer(layer)
        h = self.handle
        w = np.empty((_lib.nn_net_layer_inputs(h, i),
                      _lib.nn_net_layer_outputs(h, i)), dtype=np.float32)
        b = np.empty(w.shape[1], dtype=np.float32)
        _check(_lib.nn_net_get_params(h, i, _ptr(w), _ptr(b)))
        return w, b

    def set_weights(self, layer, weights=None, biases=None):
        i = self._layer(layer)
        h = self.handle
        ni, no = _lib.nn_net_layer_inputs(h, i), _lib.nn_net_layer_outputs(h, i)
        w = None if weights is None else \
            _as_array(weights, np.float32, "weights", (ni, no))
        b = None if biases is None else \
            _as_array(np.reshape(biases, -1) if np.size(biases) == no
                      else biases, np.float32, "biases", (no,))
        _check(_lib.nn_net_set_params(h, i, _ptr(w), _ptr(b)))

    @property
    def weights(self):
        return [self.get_weights(i) for i in range(self.num_layers)]

    def grads(self, layer):
        """(dweights, dbiases) of the last backward for a layer."""
        i = self._layer(layer)
        h = self.handle
        w = np.empty((_lib.nn_net_layer_inputs(h, i),
                      _lib.nn_net_layer_outputs(h, i)), dtype=np.float32)
        b = np.empty(w.shape[1], dtype=np.float32)
        _check(_lib.nn_net_get_grads(h, i, _ptr(w), _ptr(b)))
        return w, b

    def get_grad_block(self):
        """All gradients of the last backward as one float32 vector of
        num_params entries (each layer's weights then biases), as
        data-parallel training all-reduces them (libnnfs.mpi)."""
        g = np.empty(self.num_params, dtype=np.float32)
        _check(_lib.nn_net_get_grad_block(self.handle, _ptr(g), g.size))
        return g

    def set_grad_block(self, g):
        """Replace the gradients by g (num_params floats) for the next
        optimizer step."""
        g = _as_array(g, np.float32, "g", (self.num_params,))
        _check(_lib.nn_net_set_grad_block(self.handle, _ptr(g), g.size))

    def set_layer_option(self, layer, **options):
        """l1_weights=, l2_weights=, l1_biases=, l2_biases=, dropout=."""
        i = self._layer(layer)
        for k, v in options.items():
            _check(_lib.nn_net_set_layer_option(
                self.handle, i, _lookup(LAYER_OPTIONS, k, "layer option"),
                float(v)))

    def regularization_loss(self):
        v = _flt()
        _check(_lib.nn_net_regularization_loss(self.handle, ctypes.byref(v)))
        return v.value

    # ---- steps
    def _x(self, x):
        return _as_array(x, np.float32, "x", (None, self.n_in),
                         allow_1d_row=True)

    def forward(self, x, out=None):
        """Training forward pass; returns the output [batch, n_out]."""
        x = self._x(x)
        if x.shape[0] == 0:
            raise ShapeError("forward: x has no rows")
        out = _out_array(out, (x.shape[0], self.n_out))
        _check(_lib.nn_forward(self.handle, _ptr(x), x.shape[0], _ptr(out)))
        self._batch = x.shape[0]
        return out

    __call__ = forward

    def backward(self, targets=None, labels=None, loss="cce"):
        """Backward for the last forward, with targets [batch, n_out] (loss
        cce, bce, mse, mae) or integer labels [batch] (cce).  Returns the
        mean data loss."""
        if (targets is None) == (labels is None):
            raise InvalidArgError("backward: give exactly one of targets "
                                  "and labels")
        if not self._batch:
            raise StateError("backward: no forward on this net yet")
        v = _flt()
        if labels is not None:
            if _lookup(LOSSES, loss, "loss") != 0:
                raise InvalidArgError("backward: labels train with cce only")
            y = _as_array(labels, np.int32, "labels", (self._batch,))
            _check(_lib.nn_backward_labels(self.handle, _ptr(y),
                                           ctypes.byref(v)))
        else:
            t = _as_array(targets, np.float32, "targets",
                          (self._batch, self.n_out))
            _check(_lib.nn_backward(self.handle,
                                    _lookup(LOSSES, loss, "loss"), _ptr(t),
                                    ctypes.byref(v)))
        return v.value

    def sgd_step(self, learning_rate):
        _check(_lib.nn_sgd_step(self.handle, float(learning_rate)))

    def backward_sgd(self, learning_rate, targets=None, labels=None,
                     loss="cce"):
        """backward() then sgd_step() in one call, the update fused into
        the gradient product (nn_backward_sgd); the gradients are not
        kept.  Returns the mean data loss."""
        if (targets is None) == (labels is None):
            raise InvalidArgError("backward_sgd: give exactly one of "
                                  "targets and labels")
        if not self._batch:
            raise StateError("backward_sgd: no forward on this net yet")
        v = _flt()
        lr = float(learning_rate)
        if labels is not None:
            if _lookup(LOSSES, loss, "loss") != 0:
                raise InvalidArgError("backward_sgd: labels train with cce "
                                      "only")
            y = _as_array(labels, np.int32, "labels", (self._batch,))
            _check(_lib.nn_backward_labels_sgd(self.handle, _ptr(y), lr,
                                               ctypes.byref(v)))
        else:
            t = _as_array(targets, np.float32, "targets",
                          (self._batch, self.n_out))
            _check(_lib.nn_backward_sgd(self.handle,
                                        _lookup(LOSSES, loss, "loss"),
                                        _ptr(t), lr, ctypes.byref(v)))
        return v.value

    def predict(self, x, out=None):
        """Inference (no dropout) on x [batch, n_in]; any batch size."""
        x = self._x(x)
        if x.shape[0] == 0:
            raise ShapeError("predict: x has no rows")
        out = _out_array(out, (x.shape[0], self.n_out))
        _check(_lib.nn_predict(self.handle, _ptr(x), x.shape[0], _ptr(out)))
        return out

    def predict_classes(self, x):
        return np.argmax(self.predict(x), axis=1)

    def singular_values(self, layer):
        """Singular values of layer's W (LAPACKE_sgesdd), descending, as a
        float32 array of min(n_in, n_out)."""
        i = self._layer(layer)
        h = self.handle
        k = min(_lib.nn_net_layer_inputs(h, i), _lib.nn_net_layer_outputs(h, i))
        out = np.empty(k, dtype=np.float32)
        count = _sz()
        _check(_lib.nn_net_layer_singular_values(h, i, _ptr(out), k,
                                                 ctypes.byref(count)))
        return out[:count.value]

    def spectral_norm(self, layer):
        """Largest singular value of layer's W (its operator 2-norm)."""
        v = _dbl()
        _check(_lib.nn_net_layer_spectral_norm(self.handle,
                                               self._layer(layer),
                                               ctypes.byref(v)))
        return v.value

    def fit_readout(self, x, targets, lam=0.0):
        """Fit the last layer (linear activation) in closed form by ridge
        regression on the previous layer's activations A for x
        (nn_net_fit_readout): minimises |A W + b - targets|^2 + lam |W|^2,
        b not penalised.  targets [batch, n_out] (1-D if n_out is 1).
        Returns (method, mse): "cholesky" or "svd" (the fallback for a
        singular or ill-conditioned system) and the mean squared error of
        the fitted outputs.  Only the last layer changes; the last forward
        becomes stale."""
        x = self._x(x)
        if x.shape[0] == 0:
            raise ShapeError("fit_readout: x has no rows")
        t = np.asarray(targets)
        if t.ndim == 1 and self.n_out == 1:
            t = t.reshape(-1, 1)
        t = _as_array(t, np.float32, "targets", (x.shape[0], self.n_out))
        method, mse = _i32(), _dbl()
        _check(_lib.nn_net_fit_readout(self.handle, _ptr(x), _ptr(t),
                                       x.shape[0], float(lam),
                                       ctypes.byref(method),
                                       ctypes.byref(mse)))
        self._batch = 0
        return ("svd" if method.value == 1 else "cholesky"), mse.value

    # ---- persistence
    def save(self, path):
        _check(_lib.nn_net_save(self.handle, os.fsencode(path)))

    @classmethod
    def load(cls, path):
        h = _vp()
        _check(_lib.nn_net_load(ctypes.byref(h), os.fsencode(path)))
        return cls._from_handle(h)

    def to_bytes(self):
        return _save_bytes(_lib.nn_net_save_buffer, self.handle)

    @classmethod
    def from_bytes(cls, data):
        h = _load_bytes(_lib.nn_net_load_buffer, data)
        return cls._from_handle(h)

    # ---- training loop
    def fit(self, x, y=None, labels=None, optimizer=None, epochs=1,
            batch_size=0, loss="cce", shuffle=True, seed=0,
            validation=None, accuracy=None, precision=0.0, progress=None,
            report_every=0, callback=None):
        """Train with nn_trainer.  Give targets y [n, n_out] or labels [n].
        optimizer: an Optimizer for this net (default Adam()).
        validation: (val_x, val_y_or_labels).  progress: None = a bar on a
        tty and lines otherwise, False = silent, or a file.  callback(ep,
        metrics) may return True to stop.  Returns a history dict of per
        epoch lists: epoch, loss, accuracy, val_loss, val_accuracy,
        learning_rate, seconds."""
        if (y is None) == (labels is None):
            raise InvalidArgError("fit: give exactly one of y and labels")
        x = self._x(x)
        n = x.shape[0]
        if labels is not None:
            lab = _as_array(labels, np.int32, "labels", (n,))
            tg = None
        else:
            yy = np.asarray(y)
            if yy.ndim == 1 and self.n_out == 1:
                yy = yy.reshape(-1, 1)
            tg = _as_array(yy, np.float32, "y", (n, self.n_out))
            lab = None
        vx = vt = vl = None
        nv = 0
        if validation is not None:
            vx = self._x(validation[0])
            nv = vx.shape[0]
            vy = np.asarray(validation[1])
            if labels is not None:
                vl = _as_array(vy, np.int32, "validation labels", (nv,))
            else:
                vt = _as_array(vy.reshape(nv, -1), np.float32,
                               "validation targets", (nv, self.n_out))
        if optimizer is None:
            optimizer = Adam(self)
        optimizer._bind(self)
        if optimizer._net is not self:
            raise InvalidArgError("fit: the optimizer belongs to another net")

        history = {k: [] for k in ("epoch", "loss", "accuracy", "val_loss",
                                   "val_accuracy", "learning_rate",
                                   "seconds")}
        bar = _Progress(progress, int(epochs))
        errors = []
        tr = _vp()
        _check(_lib.nn_trainer_create(ctypes.byref(tr), self.handle,
                                      optimizer.handle))
        keys = (("epoch", 0), ("loss", 2), ("accuracy", 3),
                ("val_loss", 5), ("val_accuracy", 6), ("learning_rate", 7),
                ("seconds", 8))

        def on_progress(user, trainer, event):
            try:
                if event != 1:
                    return 0
                m = {}
                v = _dbl()
                for k, code in keys:
                    _lib.nn_trainer_metric(trainer, code, ctypes.byref(v))
                    m[k] = v.value
                m["epoch"] = int(m["epoch"])
                for k in history:
                    history[k].append(m[k])
                bar.update(m)
                if callback is not None and callback(m["epoch"], m):
                    return 1
                return 0
            except BaseException as e:  # never let it cross into C
                errors.append(e)
                return 1

        cb = PROGRESS_FN(on_progress)  # kept alive until the fit returns
        try:
            settings = [(2, epochs), (1, batch_size), (3, 1 if shuffle else 0),
                        (4, int(seed) % 2**53), (6, precision)]
            if tg is not None:
                settings.append((0, _lookup(LOSSES, loss, "loss")))
            if accuracy is not None:
                settings.append((5, _lookup(ACCURACY, accuracy, "accuracy")))
            for code, val in settings:
                _check(_lib.nn_trainer_set(tr, code, float(val)))
            _check(_lib.nn_trainer_set_callback(tr, cb, None))
            _check(_lib.nn_trainer_fit(tr, _ptr(x), _ptr(tg), _ptr(lab), n,
                                       _ptr(vx), _ptr(vt), _ptr(vl), nv))
        finally:
            _lib.nn_trainer_destroy(tr)
            bar.close()
            del cb
        if errors:
            raise errors[0]
        return history


class _Progress:
    """A one-line bar on a tty, else about 20 plain lines per fit."""

    def __init__(self, mode, epochs):
        self.epochs = max(1, epochs)
        if mode is False:
            self.f = None
        elif mode is None or mode is True:
            self.f = sys.stderr
        else:
            self.f = mode
        self.tty = bool(self.f is not None and hasattr(self.f, "isatty")
                        and self.f.isatty())
        self.every = max(1, self.epochs // 20)

    @staticmethod
    def _fmt(m):
        s = "loss %.4f" % m["loss"]
        if m["accuracy"] == m["accuracy"]:
            s += "  acc %.3f" % m["accuracy"]
        if m["val_loss"] == m["val_loss"]:
            s += "  val_loss %.4f" % m["val_loss"]
        if m["val_accuracy"] == m["val_accuracy"]:
            s += "  val_acc %.3f" % m["val_accuracy"]
        return s

    def update(self, m):
        if self.f is None:
            return
        e = m["epoch"]
        if self.tty:
            w = 30
            done = int(w * e / self.epochs)
            self.f.write("\repoch %d/%d [%s%s] %s" % (
                e, self.epochs, "#" * done, "." * (w - done), self._fmt(m)))
            self.f.flush()
        elif e == 1 or e % self.every == 0 or e == self.epochs:
            self.f.write("epoch %d/%d %s\n" % (e, self.epochs, self._fmt(m)))
            self.f.flush()

    def close(self):
        if self.f is not None and self.tty:
            self.f.write("\n")
            self.f.flush()


# ------------------------------------------------------------- optimizers

class Optimizer(_Handle):
    """Base of SGD, Adagrad, RMSprop, Adam.  Settings are keyword arguments
    (learning_rate, decay, momentum, epsilon, rho, beta1, beta2).  Give the
    net now or let fit() bind it."""
    kind = None

    def __init__(self, net=None, **settings):
        for k in settings:
            _lookup(OPT_SETTINGS, k, "optimizer setting")
        self._settings = dict(settings)
        self._net = None
        if net is not None:
            self._bind(net)

    def _bind(self, net):
        if self._net is not None:
            return
        h = _vp()
        _check(_lib.nn_optimizer_create(ctypes.byref(h), net.handle,
                                        self.kind))
        self._own(h.value, _lib.nn_optimizer_destroy)
        self._net = net          # keeps the net alive while we live
        net._dependents.add(self)
        try:
            for k, v in self._settings.items():
                self[k] = v
        except Exception:
            self.close()
            raise

    def __setitem__(self, key, value):
        _check(_lib.nn_optimizer_set(
            self.handle, _lookup(OPT_SETTINGS, key, "optimizer setting"),
            float(value)))

    def __getitem__(self, key):
        table = dict(OPT_SETTINGS, current_learning_rate=8)
        v = _dbl()
        _check(_lib.nn_optimizer_get(self.handle,
                                     _lookup(table, key, "optimizer setting"),
                                     ctypes.byref(v)))
        return v.value

    @property
    def current_learning_rate(self):
        return self["current_learning_rate"]

    def step(self):
        """Update the net with the gradients of its last backward."""
        _check(_lib.nn_optimizer_step(self.handle))

    def reset(self):
        _check(_lib.nn_optimizer_reset(self.handle))


class SGD(Optimizer):
    kind = 0


class Adagrad(Optimizer):
    kind = 1


class RMSprop(Optimizer):
    kind = 2


class Adam(Optimizer):
    kind = 3


# ---------------------------------------------------------------- helpers

class PCA(_Handle):
    """Principal component analysis and whitening (nn_pca_*).

        pca = nn.PCA(64, whiten=False).fit(x_train)
        z = pca.transform(x_test)          # [n, 64] float32
        x_back = pca.inverse_transform(z)  # [n, n_features]

    fit computes the mean and the sample covariance (divided by n - 1) of
    x [n, n_features] and keeps the k eigenvectors of largest eigenvalue
    (LAPACK dsyevd), sorted by descending variance, each signed so that its
    largest-magnitude entry is positive.  With whiten=True the transform
    divides each component by sqrt(variance + epsilon)."""

    def __init__(self, k, whiten=False, epsilon=0.0):
        self.k = int(k)
        self.whiten = bool(whiten)
        self.epsilon = float(epsilon)

    def _adopt(self, h):
        self.close()
        self._own(h.value, _lib.nn_pca_destroy)
        n = _lib.nn_pca_num_components(self._h)
        flags, eps = _i32(), _dbl()
        _check(_lib.nn_pca_get_settings(self._h, ctypes.byref(flags),
                                        ctypes.byref(eps)))
        self.k, self.whiten, self.epsilon = n, bool(flags.value & 1), \
            eps.value
        return self

    def fit(self, x):
        """Fit to x [n, n_features] (n >= 2); returns self."""
        x = _as_array(x, np.float32, "x", (None, None))
        h = _vp()
        _check(_lib.nn_pca_fit(ctypes.byref(h), _ptr(x), x.shape[0],
                               x.shape[1], self.k, 1 if self.whiten else 0,
                               self.epsilon))
        return self._adopt(h)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def transform(self, x, out=None):
        """Project x [n, n_features] onto the components: [n, k]."""
        h = self.handle
        x = _as_array(x, np.float32, "x",
                      (None, _lib.nn_pca_num_features(h)), allow_1d_row=True)
        out = _out_array(out, (x.shape[0], _lib.nn_pca_num_components(h)))
        if x.shape[0]:
            _check(_lib.nn_pca_transform(h, _ptr(x), x.shape[0], _ptr(out)))
        return out

    def inverse_transform(self, z, out=None):
        """Map z [n, k] back to the input space: [n, n_features]."""
        h = self.handle
        z = _as_array(z, np.float32, "z",
                      (None, _lib.nn_pca_num_components(h)),
                      allow_1d_row=True)
        out = _out_array(out, (z.shape[0], _lib.nn_pca_num_features(h)))
        if z.shape[0]:
            _check(_lib.nn_pca_inverse_transform(h, _ptr(z), z.shape[0],
                                                 _ptr(out)))
        return out

    @property
    def n_features(self):
        return _lib.nn_pca_num_features(self.handle)

    @property
    def n_components(self):
        return _lib.nn_pca_num_components(self.handle)

    @property
    def mean(self):
        """The training mean, float64 [n_features]."""
        h = self.handle
        m = np.empty(_lib.nn_pca_num_features(h), dtype=np.float64)
        _check(_lib.nn_pca_get_params(h, _ptr(m), None))
        return m

    @property
    def components(self):
        """float32 [k, n_features], one unit component per row."""
        h = self.handle
        c = np.empty((_lib.nn_pca_num_components(h),
                      _lib.nn_pca_num_features(h)), dtype=np.float32)
        _check(_lib.nn_pca_get_params(h, None, _ptr(c)))
        return c

    def _variance(self):
        h = self.handle
        k = _lib.nn_pca_num_components(h)
        v, r = np.empty(k), np.empty(k)
        _check(_lib.nn_pca_get_variance(h, _ptr(v), _ptr(r)))
        return v, r

    @property
    def explained_variance(self):
        """Variance along each component (the covariance's eigenvalues)."""
        return self._variance()[0]

    @property
    def explained_variance_ratio(self):
        return self._variance()[1]

    def __repr__(self):
        if self.closed:
            return "PCA(k=%d, unfitted or closed)" % self.k
        return "PCA(%d -> %d%s)" % (self.n_features, self.n_components,
                                    ", whitened" if self.whiten else "")

    def save(self, path):
        _check(_lib.nn_pca_save(self.handle, os.fsencode(path)))

    @classmethod
    def load(cls, path):
        h = _vp()
        _check(_lib.nn_pca_load(ctypes.byref(h), os.fsencode(path)))
        return cls(1)._adopt(h)

    def to_bytes(self):
        return _save_bytes(_lib.nn_pca_save_buffer, self.handle)

    @classmethod
    def from_bytes(cls, data):
        h = _load_bytes(_lib.nn_pca_load_buffer, data)
        return cls(1)._adopt(h)


def loss(out, targets=None, labels=None, kind="cce"):
    """Mean loss of outputs [batch, n_out] against targets or labels."""
    out = _as_array(out, np.float32, "out", (None, None))
    v = _flt()
    b, k = out.shape
    if labels is not None:
        lab = _as_array(labels, np.int32, "labels", (b,))
        _check(_lib.nn_loss_compute_labels(_ptr(out), _ptr(lab), b, k,
                                           ctypes.byref(v)))
    else:
        t = _as_array(targets, np.float32, "targets", (b, k))
        _check(_lib.nn_loss_compute(_lookup(LOSSES, kind, "loss"), _ptr(out),
                                    _ptr(t), b, k, ctypes.byref(v)))
    return v.value


def accuracy(out, labels):
    """Fraction of rows whose argmax equals the label."""
    out = _as_array(out, np.float32, "out", (None, None))
    lab = _as_array(labels, np.int32, "labels", (out.shape[0],))
    v = _flt()
    _check(_lib.nn_accuracy(_ptr(out), out.shape[0], out.shape[1], _ptr(lab),
                            ctypes.byref(v)))
    return v.value


def _classes_data(fn, samples, classes, seed):
    x = np.empty((samples * classes, 2), dtype=np.float32)
    y = np.empty(samples * classes, dtype=np.int32)
    _check(fn(_ptr(x), _ptr(y), int(samples), int(classes),
              _u64(int(seed) % 2**64)))
    return x, y


def spiral_data(samples, classes, seed=0):
    """The course's spiral set: X [samples*classes, 2] float32, y int32."""
    return _classes_data(_lib.nn_data_spiral, samples, classes, seed)


def vertical_data(samples, classes, seed=0):
    return _classes_data(_lib.nn_data_vertical, samples, classes, seed)


def sine_data(samples=1000):
    """X [samples, 1] = i/samples, y [samples, 1] = sin(2 pi X)."""
    x = np.empty((samples, 1), dtype=np.float32)
    y = np.empty((samples, 1), dtype=np.float32)
    _check(_lib.nn_data_sine(_ptr(x), _ptr(y), int(samples)))
    return x, y


def shuffle(x, y=None, labels=None, seed=0):
    """Shuffled copies of x (and y / labels) with one seeded permutation."""
    x = np.array(_as_array(x, np.float32, "x", (None, None)))
    n = x.shape[0]
    yy = None if y is None else \
        np.array(_as_array(y, np.float32, "y", (n, None)))
    ll = None if labels is None else \
        np.array(_as_array(labels, np.int32, "labels", (n,)))
    _check(_lib.nn_data_shuffle(_ptr(x), n, x.shape[1], _ptr(yy),
                                0 if yy is None else yy.shape[1], _ptr(ll),
                                _u64(int(seed) % 2**64)))
    return tuple(a for a in (x, yy, ll) if a is not None) \
        if (yy is not None or ll is not None) else x


def load_idx(path, scale="unit"):
    """An IDX image file (plain or .gz) as float32 [count, sample_size];
    scale: none (0..255), unit ([0, 1]) or symmetric ([-1, 1])."""
    p = os.fsencode(path)
    n, s = _sz(), _sz()
    _check(_lib.nn_idx_info(p, ctypes.byref(n), ctypes.byref(s)))
    out = np.empty((n.value, s.value), dtype=np.float32)
    _check(_lib.nn_idx_read(p, _ptr(out), n.value, s.value,
                            _lookup(SCALES, scale, "scale")))
    return out


def load_idx_labels(path):
    """An IDX label file as int32 [count]."""
    p = os.fsencode(path)
    n, s = _sz(), _sz()
    _check(_lib.nn_idx_info(p, ctypes.byref(n), ctypes.byref(s)))
    if s.value != 1:
        raise FormatError("%s: not a label file (sample size %d)"
                          % (path, s.value))
    out = np.empty(n.value, dtype=np.int32)
    _check(_lib.nn_idx_read_labels(p, _ptr(out), n.value))
    return out


def version():
    return _lib.nn_version().decode()


def info():
    """Version, BLAS, BLAS core, kernel sets and threads, as a dict."""
    names = ("version", "blas", "blas_core", "kernels", "kernels_built",
             "blas_core_choice")
    d = {}
    for i, k in enumerate(names):
        s = _lib.nn_info(i)
        d[k] = s.decode() if s is not None else None
    d["threads"] = _lib.nn_get_num_threads()
    d["library"] = library_path
    return d


def set_num_threads(n):
    _check(_lib.nn_set_num_threads(int(n)))


def get_num_threads():
    return _lib.nn_get_num_threads()


_PARALLEL_MODES = ("auto", "blas", "replicas")   # NN_PARALLEL_* order


def set_parallel_mode(mode):
    """How the set_num_threads threads are used: "auto" (the default:
    per step size), "blas" (the BLAS's own threads) or "replicas" (the
    batch's rows split over the threads); see nn_set_parallel_mode."""
    if mode not in _PARALLEL_MODES:
        raise ValueError("parallel mode must be one of %s, not %r" %
                         (", ".join(_PARALLEL_MODES), mode))
    _check(_lib.nn_set_parallel_mode(_PARALLEL_MODES.index(mode)))


def get_parallel_mode():
    return _PARALLEL_MODES[_lib.nn_get_parallel_mode()]
