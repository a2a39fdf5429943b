"""ctypes binding of libnnfs's C API (include/nnfs.h).

Everything that touches the shared library lives here; __init__.py
re-exports the public names.

The thread rule: the C library lets one thread at a time use a handle, and
ctypes releases the GIL during every C call.  So each Net (together with
its optimizers, which refer to it, and the trainer of a fit) and each PCA
carries one lock (threading.RLock), held across every C call that uses the
handle; close() takes the same lock.  Calls on one object from several
threads run one after the other (a fit holds its net's lock until it
returns); distinct objects run in parallel.  close() from another thread
waits for the call in progress, after which the object raises StateError.
Closing a net or optimizer that a running fit() uses, from that fit's own
callback, raises StateError (a RuntimeError) and frees nothing.

Every user value is checked in Python before ctypes converts it (ctypes
would silently truncate an int to the C type, a float to an int, or cut a
path at a NUL byte): integers for int32 enums and size_t counts, real
numbers for doubles, str / bytes / os.PathLike for paths.  A wrong type is
TypeError, a negative count or a NUL in a path ValueError, a value the C
type cannot hold OverflowError; each names the argument, and nothing has
been called or changed.
"""

import ctypes
import ctypes.util
import glob
import numbers
import operator
import os
import sys
import threading
import weakref

import numpy as np

__all__ = [
    "NNError", "InvalidArgError", "ShapeError", "NoMemError", "NNIOError",
    "FormatError", "NonFiniteError", "StateError", "UnsupportedError",
    "MisuseError",
    "Net", "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam",
    "PCA", "load_checkpoint",
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
    "nn_activation_name": (_cp, [_i32]),
    "nn_loss_name": (_cp, [_i32]),
    "nn_optimizer_name": (_cp, [_i32]),
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
    "nn_optimizer_kind": (_i32, [_vp]),
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
    "nn_checkpoint_save": (_int, [_vp, _vp, _cp]),
    "nn_checkpoint_load": (_int, [_P(_vp), _P(_vp), _cp]),
    "nn_net_load": (_int, [_P(_vp), _cp]),
    "nn_net_save_buffer": (_int, [_vp, _vp, _sz, _P(_sz)]),
    "nn_net_load_buffer": (_int, [_P(_vp), _vp, _sz]),
    "nn_net_export_onnx": (_int, [_vp, _cp]),
    "nn_net_export_onnx_buffer": (_int, [_vp, _vp, _sz, _P(_sz)]),
    "nn_net_import_onnx": (_int, [_P(_vp), _cp]),
    "nn_net_import_onnx_buffer": (_int, [_P(_vp), _vp, _sz]),
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


class MisuseError(NNError, RuntimeError):
    """The C library was handed a handle of the wrong type or one already
    destroyed (a binding bug: the classes here never pass one)."""
    status, status_name = 9, "NN_ERR_MISUSE"


_ERRORS = {c.status: c for c in (InvalidArgError, ShapeError, NoMemError,
                                 NNIOError, FormatError, NonFiniteError,
                                 StateError, UnsupportedError, MisuseError)}


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
    data = _bytes_arg(data)
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


def _unaliased(x, out):
    """x, or a copy of it when it may share memory with the output buffer
    out: the C functions read their input while they write out, so an
    overlap would feed them half-written rows."""
    if out is not None and np.may_share_memory(x, out):
        return np.array(x, copy=True)
    return x


# ------------------------------------------------------- scalar arguments
# ctypes converts silently: c_int32(2**40) keeps the low bits, c_size_t(-1)
# wraps, a float given for a size_t is truncated, a c_char_p stops at the
# first NUL byte.  Every user value goes through one of these first.

def _bits_range(ctype, signed):
    bits = 8 * ctypes.sizeof(ctype)
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed \
        else (0, (1 << bits) - 1)


_CTYPE_RANGE = {
    "int32_t": _bits_range(_i32, True),
    "int": _bits_range(_int, True),
    "size_t": _bits_range(_sz, False),
    "uint64_t": _bits_range(_u64, False),
    # the trainer's counts, carried by a double (exact up to 2**53), which
    # nn_trainer_set takes up to 9e15
    "double (a count)": (0, 9 * 10**15),
}


def _int_arg(value, name, ctype="size_t"):
    """value as a Python int that ctype holds exactly.  TypeError for a
    bool, a float or anything else without __index__; ValueError for a
    negative value of an unsigned type; OverflowError past its range."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("libnnfs: %s must be an integer, got bool %r"
                        % (name, value))
    try:
        v = operator.index(value)
    except TypeError:
        raise TypeError("libnnfs: %s must be an integer, got %s %r"
                        % (name, type(value).__name__, value)) from None
    lo, hi = _CTYPE_RANGE[ctype]
    if v < 0 and lo == 0:
        raise ValueError("libnnfs: %s must not be negative, got %d"
                         % (name, v))
    if not lo <= v <= hi:
        raise OverflowError("libnnfs: %s = %d is out of range for the C "
                            "%s: [%d, %d]" % (name, v, ctype, lo, hi))
    return v


def _real_arg(value, name):
    """value as a Python float (the C double): int and float (NumPy's
    too) are accepted, bool, str and anything else are TypeError; an int
    too large for a double is OverflowError.  NaN and infinity pass (the
    library reports them as NN_ERR_NONFINITE)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 \
            and value.dtype.kind in "fiu":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or \
            not isinstance(value, numbers.Real):
        raise TypeError("libnnfs: %s must be a real number, got %s %r"
                        % (name, type(value).__name__, value))
    try:
        return float(value)
    except OverflowError:
        raise OverflowError("libnnfs: %s = %r is too large for a C double"
                            % (name, value)) from None


def _bool_arg(value, name):
    """A flag: bool, or the integers 0 and 1."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise TypeError("libnnfs: %s must be True or False, got %s %r"
                    % (name, type(value).__name__, value))


def _path_arg(path, name="path"):
    """A file system path (str, bytes or os.PathLike) as the bytes the C
    library gets; a NUL byte would end the C string early, so it is
    refused."""
    try:
        p = os.fsencode(path)
    except TypeError:
        raise TypeError("libnnfs: %s must be a str, bytes or os.PathLike "
                        "path, got %s" % (name, type(path).__name__)) \
            from None
    if b"\0" in p:
        raise ValueError("libnnfs: %s contains a NUL byte at offset %d: %r"
                         % (name, p.index(b"\0"), path))
    return p


def _bytes_arg(data, name="data"):
    """A bytes-like object (bytes, bytearray, memoryview, ...) as bytes;
    bytes(5) would make five zero bytes, so an int is TypeError."""
    try:
        return bytes(memoryview(data))
    except TypeError:
        raise TypeError("libnnfs: %s must be bytes-like, got %s"
                        % (name, type(data).__name__)) from None


# -------------------------------------------------------------- constants

def _enum_names(name_fn):
    """name -> value of an enum, from the library's own name function
    (nn_activation_name, ...): its values run from 0 to the first NULL."""
    table, i = {}, 0
    while True:
        name = name_fn(i)
        if name is None:
            return table
        table[name.decode("ascii")] = i
        i += 1


ACTIVATIONS = _enum_names(_lib.nn_activation_name)
_ACT_NAMES = {v: k for k, v in ACTIVATIONS.items()}
LOSSES = _enum_names(_lib.nn_loss_name)
# the Keras spellings, accepted by the binding as well
LOSSES["categorical_crossentropy"] = LOSSES["cce"]
LOSSES["binary_crossentropy"] = LOSSES["bce"]
OPTIMIZERS = _enum_names(_lib.nn_optimizer_name)
INITS = {"default": 0, "normal": 1, "uniform": 2, "orthogonal": 3}
LAYER_OPTIONS = {"l1_weights": 0, "l2_weights": 1, "l1_biases": 2,
                 "l2_biases": 3, "dropout": 4}
OPT_SETTINGS = {"learning_rate": 0, "decay": 1, "momentum": 2,
                "epsilon": 3, "rho": 4, "beta1": 5, "beta2": 6,
                "iterations": 7}
ACCURACY = {"none": 0, "categorical": 1, "binary": 2, "regression": 3}
SCALES = {"none": 0, "unit": 1, "symmetric": 2}


def _lookup(table, value, what):
    """A named constant: a name of table (any case), or its int32 value
    (values the binding has no name for go to C, which checks them)."""
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise ValueError("libnnfs: unknown %s %r; one of %s"
                             % (what, value, ", ".join(sorted(table))))
    try:
        return _int_arg(value, what, "int32_t")
    except TypeError:
        raise TypeError("libnnfs: %s must be a name (one of %s) or an "
                        "int32 constant, got %s %r"
                        % (what, ", ".join(sorted(table)),
                           type(value).__name__, value)) from None


# -------------------------------------------------------------- the handle

class _Guard:
    """The lock of one C handle and of the handles that refer to it (a net,
    its optimizers and the trainer of its fit share one), held across every
    C call that uses any of them, and by close().  busy lists (object,
    operation) pairs while a C call that calls back into Python (a fit's
    progress callback) runs on the thread holding the lock: such an object
    cannot be closed from the callback."""
    __slots__ = ("lock", "busy")

    def __init__(self):
        self.lock = threading.RLock()
        self.busy = []


class _Hold:
    """`with obj._hold():` holds obj's guard lock (and gives the guard).
    An object gets its guard once, with its handle, and keeps it; an
    optimizer not bound to a net yet has none, and no handle."""
    __slots__ = ("obj", "lock")

    def __init__(self, obj):
        self.obj = obj

    def __enter__(self):
        g = self.obj._guard
        if g is None:
            raise StateError("%s is closed" % type(self.obj).__name__)
        g.lock.acquire()
        self.lock = g.lock
        return g

    def __exit__(self, *exc):
        self.lock.release()


class _Handle:
    """Owns one C handle; freed by close(), by `with`, or by the GC.  The
    destroy function is kept on the instance so __del__ works while the
    interpreter shuts down and module globals are gone.  Every use of the
    handle is under `with self._hold():` (see _Guard)."""
    _h = None
    _guard = None

    def _own(self, h, destroy):
        self._h = h
        self._destroy = destroy

    def _hold(self):
        return _Hold(self)

    @property
    def handle(self):
        """The C handle (an int).  For calls of your own through ctypes:
        they must follow the thread rule (hold no other call on this
        object at the same time)."""
        if not self._h:
            raise StateError("%s is closed" % type(self).__name__)
        return self._h

    @property
    def closed(self):
        return not self._h

    def _refuse_close(self):
        """StateError if a C call on this thread's stack (a fit whose
        callback is running) uses this object.  Lock held."""
        for obj, op in self._guard.busy:
            if obj is self:
                name = type(self).__name__
                raise StateError(
                    "%s.close: cannot close %s %s while %s is using it "
                    "(close() was called from %s's callback); return True "
                    "from the callback to stop %s, then close it"
                    % (name, "an" if name[0] in "AEIOU" else "a", name, op,
                       op, op))

    def _free(self):
        h, self._h = self._h, None
        if h:
            self._destroy(h)

    def close(self):
        """Free the C handle; later calls raise StateError.  Waits for a
        call on another thread to finish; raises StateError, freeing
        nothing, from a callback of a call that uses this object."""
        if self._guard is None:   # the constructor failed: nothing to free
            return
        with self._hold():
            self._refuse_close()
            self._free()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # Unreachable, so no other thread can be in a call on this object
        # (each call holds a reference to it), and the handles that refer
        # to it are either gone or unreachable too: freed without the
        # lock, which a collection on any thread must not wait for.
        try:
            self._free()
        except Exception:
            pass


# -------------------------------------------------------------------- Net

class Net(_Handle):
    """A dense network: Net([2, 64, 3], ["relu", "softmax"], seed=0).

    sizes: input width then each layer's width (ints); activations: one per
    layer (linear, relu, sigmoid, tanh, softmax).  init="normal",
    gain=0.01 gives the course's 0.01 * randn weights.

    Threads: a Net and its optimizers share one lock, held across every C
    call on them, so calls from several threads run one at a time (a fit
    holds it until it returns) and never corrupt each other; distinct nets
    run in parallel.  close() waits for a call on another thread; from a
    fit's callback, closing the net or the fit's optimizer raises
    StateError and frees nothing."""

    def __init__(self, sizes, activations, seed=0, init=None, gain=1.0):
        sizes = [_int_arg(s, "Net: sizes[%d]" % i)
                 for i, s in enumerate(sizes)]
        acts = [_lookup(ACTIVATIONS, a, "Net: activations[%d]" % i)
                for i, a in enumerate(activations)]
        seed = _int_arg(seed, "Net: seed", "uint64_t")
        if init is not None:
            # checked now, so a bad one fails before the net exists
            _lookup(INITS, init, "Net: init")
            _real_arg(gain, "Net: gain")
        if len(acts) != len(sizes) - 1:
            raise ShapeError("Net: %d sizes need %d activations, got %d"
                             % (len(sizes), len(sizes) - 1, len(acts)))
        h = _vp()
        _check(_lib.nn_net_create(
            ctypes.byref(h), len(acts), (_sz * len(sizes))(*sizes),
            (_i32 * max(1, len(acts)))(*acts), _u64(seed)))
        self._adopt(h)
        if init is not None:
            try:
                self.init(init, gain=gain, seed=seed)
            except BaseException:
                self.close()
                raise

    def _adopt(self, h):
        self._guard = _Guard()
        self._own(h.value, _lib.nn_net_destroy)
        self._dependents = weakref.WeakSet()
        self._batch = 0

    @classmethod
    def _from_handle(cls, h):
        self = cls.__new__(cls)
        self._adopt(h)
        return self

    def close(self):
        """Free the net and, first, its optimizers.  Thread rule: see the
        class."""
        if self._guard is None:
            return
        with self._hold():
            deps = list(getattr(self, "_dependents", ()))
            self._refuse_close()
            for d in deps:
                d._refuse_close()
            for d in deps:   # optimizers refer to the net: freed first
                d._free()
            self._free()

    # ---- shape
    @property
    def num_layers(self):
        with self._hold():
            return _lib.nn_net_num_layers(self.handle)

    @property
    def sizes(self):
        with self._hold():
            h = self.handle
            n = _lib.nn_net_num_layers(h)
            return [_lib.nn_net_layer_inputs(h, 0)] + \
                [_lib.nn_net_layer_outputs(h, i) for i in range(n)]

    @property
    def activations(self):
        with self._hold():
            h = self.handle
            return [_ACT_NAMES.get(_lib.nn_net_layer_activation(h, i), "?")
                    for i in range(_lib.nn_net_num_layers(h))]

    @property
    def num_params(self):
        with self._hold():
            return _lib.nn_net_num_params(self.handle)

    @property
    def n_in(self):
        with self._hold():
            return _lib.nn_net_layer_inputs(self.handle, 0)

    @property
    def n_out(self):
        with self._hold():
            h = self.handle
            return _lib.nn_net_layer_outputs(h,
                                             _lib.nn_net_num_layers(h) - 1)

    def __repr__(self):
        if self.closed:
            return "Net(<closed>)"
        with self._hold():
            if self.closed:
                return "Net(<closed>)"
            return "Net(%s, %s)" % (self.sizes, self.activations)

    def _layer(self, layer, name="layer"):
        """layer (an int, negative from the end) as an index; lock held."""
        n = _lib.nn_net_num_layers(self.handle)
        if isinstance(layer, (bool, np.bool_)):
            raise TypeError("libnnfs: %s must be an integer, got bool"
                            % name)
        try:
            i = operator.index(layer)
        except TypeError:
            raise TypeError("libnnfs: %s must be an integer, got %s %r"
                            % (name, type(layer).__name__, layer)) from None
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("%s %d out of range for %d layers"
                             % (name, operator.index(layer), n))
        return i

    # ---- parameters
    def init(self, scheme="default", gain=1.0, seed=0, layer=None):
        """Re-draw weights (biases to 0): scheme default/normal/uniform/
        orthogonal (gain * a Haar-random orthogonal matrix, LAPACK QR)."""
        code = _lookup(INITS, scheme, "init: scheme")
        g = _real_arg(gain, "init: gain")
        seed = _int_arg(seed, "init: seed", "uint64_t")
        with self._hold():
            li = _CTYPE_RANGE["size_t"][1] if layer is None \
                else self._layer(layer, "init: layer")
            _check(_lib.nn_net_init(self.handle, li, code, g, _u64(seed)))

    def _layer_pair(self, layer, getter):
        """A layer's [n_in, n_out] and [n_out] arrays from getter
        (nn_net_get_params or nn_net_get_grads), as new arrays."""
        with self._hold():
            i = self._layer(layer)
            h = self.handle
            w = np.empty((_lib.nn_net_layer_inputs(h, i),
                          _lib.nn_net_layer_outputs(h, i)), dtype=np.float32)
            b = np.empty(w.shape[1], dtype=np.float32)
            _check(getter(h, i, _ptr(w), _ptr(b)))
            return w, b

    def get_weights(self, layer):
        """(weights [n_in, n_out], biases [n_out]) of a layer, as copies."""
        return self._layer_pair(layer, _lib.nn_net_get_params)

    def set_weights(self, layer, weights=None, biases=None):
        with self._hold():
            i = self._layer(layer)
            h = self.handle
            ni = _lib.nn_net_layer_inputs(h, i)
            no = _lib.nn_net_layer_outputs(h, i)
            w = None if weights is None else \
                _as_array(weights, np.float32, "weights", (ni, no))
            b = None if biases is None else \
                _as_array(np.reshape(biases, -1) if np.size(biases) == no
                          else biases, np.float32, "biases", (no,))
            _check(_lib.nn_net_set_params(h, i, _ptr(w), _ptr(b)))

    @property
    def weights(self):
        with self._hold():
            return [self.get_weights(i) for i in range(self.num_layers)]

    def grads(self, layer):
        """(dweights, dbiases) of the last backward for a layer."""
        return self._layer_pair(layer, _lib.nn_net_get_grads)

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
        opts = [(_lookup(LAYER_OPTIONS, k, "layer option"),
                 _real_arg(v, "set_layer_option: " + k))
                for k, v in options.items()]
        with self._hold():
            i = self._layer(layer)
            for code, v in opts:
                _check(_lib.nn_net_set_layer_option(self.handle, i, code, v))

    def regularization_loss(self):
        v = _flt()
        with self._hold():
            _check(_lib.nn_net_regularization_loss(self.handle,
                                                   ctypes.byref(v)))
        return v.value

    # ---- steps
    def _x(self, x):
        return _as_array(x, np.float32, "x", (None, self.n_in),
                         allow_1d_row=True)

    def forward(self, x, out=None):
        """Training forward pass; returns the output [batch, n_out].  out
        may be any float32 buffer of that shape, even x itself (an input
        that overlaps out is copied first)."""
        with self._hold():
            h = self.handle
            x = self._x(x)
            if x.shape[0] == 0:
                raise ShapeError("forward: x has no rows")
            out = _out_array(out, (x.shape[0], self.n_out))
            x = _unaliased(x, out)
            _check(_lib.nn_forward(h, _ptr(x), x.shape[0], _ptr(out)))
            self._batch = x.shape[0]
            return out

    __call__ = forward

    def _loss_args(self, what, targets, labels, loss):
        """The checked loss code and label / target array of a backward;
        lock held."""
        if (targets is None) == (labels is None):
            raise InvalidArgError("%s: give exactly one of targets and "
                                  "labels" % what)
        code = _lookup(LOSSES, loss, what + ": loss")
        if not self._batch:
            raise StateError("%s: no forward on this net yet" % what)
        if labels is not None:
            if code != 0:
                raise InvalidArgError("%s: labels train with cce only"
                                      % what)
            return code, _as_array(labels, np.int32, "labels",
                                   (self._batch,)), None
        return code, None, _as_array(targets, np.float32, "targets",
                                     (self._batch, self.n_out))

    def backward(self, targets=None, labels=None, loss="cce"):
        """Backward for the last forward, with targets [batch, n_out] (loss
        cce, bce, mse, mae) or integer labels [batch] (cce).  Returns the
        mean data loss."""
        v = _flt()
        with self._hold():
            h = self.handle
            code, y, t = self._loss_args("backward", targets, labels, loss)
            if y is not None:
                _check(_lib.nn_backward_labels(h, _ptr(y), ctypes.byref(v)))
            else:
                _check(_lib.nn_backward(h, code, _ptr(t), ctypes.byref(v)))
        return v.value

    def sgd_step(self, learning_rate):
        lr = _real_arg(learning_rate, "sgd_step: learning_rate")
        with self._hold():
            _check(_lib.nn_sgd_step(self.handle, lr))

    def backward_sgd(self, learning_rate, targets=None, labels=None,
                     loss="cce"):
        """backward() then sgd_step() in one call, the update fused into
        the gradient product (nn_backward_sgd); the gradients are not
        kept.  Returns the mean data loss."""
        lr = _real_arg(learning_rate, "backward_sgd: learning_rate")
        v = _flt()
        with self._hold():
            h = self.handle
            code, y, t = self._loss_args("backward_sgd", targets, labels,
                                         loss)
            if y is not None:
                _check(_lib.nn_backward_labels_sgd(h, _ptr(y), lr,
                                                   ctypes.byref(v)))
            else:
                _check(_lib.nn_backward_sgd(h, code, _ptr(t), lr,
                                            ctypes.byref(v)))
        return v.value

    def predict(self, x, out=None):
        """Inference (no dropout) on x [batch, n_in]; any batch size.  out
        may be any float32 buffer of shape [batch, n_out], even x itself
        (an input that overlaps out is copied first).  Safe from several
        threads (they take turns)."""
        with self._hold():
            h = self.handle
            x = self._x(x)
            if x.shape[0] == 0:
                raise ShapeError("predict: x has no rows")
            out = _out_array(out, (x.shape[0], self.n_out))
            x = _unaliased(x, out)
            _check(_lib.nn_predict(h, _ptr(x), x.shape[0], _ptr(out)))
            return out

    def predict_classes(self, x):
        return np.argmax(self.predict(x), axis=1)

    def singular_values(self, layer):
        """Singular values of layer's W (LAPACKE_sgesdd), descending, as a
        float32 array of min(n_in, n_out)."""
        count = _sz()
        with self._hold():
            i = self._layer(layer)
            h = self.handle
            k = min(_lib.nn_net_layer_inputs(h, i),
                    _lib.nn_net_layer_outputs(h, i))
            out = np.empty(k, dtype=np.float32)
            _check(_lib.nn_net_layer_singular_values(h, i, _ptr(out), k,
                                                     ctypes.byref(count)))
        return out[:count.value]

    def spectral_norm(self, layer):
        """Largest singular value of layer's W (its operator 2-norm)."""
        v = _dbl()
        with self._hold():
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
        lam = _real_arg(lam, "fit_readout: lam")
        method, mse = _i32(), _dbl()
        with self._hold():
            h = self.handle
            x = self._x(x)
            if x.shape[0] == 0:
                raise ShapeError("fit_readout: x has no rows")
            n_out = self.n_out
            t = np.asarray(targets)
            if t.ndim == 1 and n_out == 1:
                t = t.reshape(-1, 1)
            t = _as_array(t, np.float32, "targets", (x.shape[0], n_out))
            _check(_lib.nn_net_fit_readout(h, _ptr(x), _ptr(t), x.shape[0],
                                           lam, ctypes.byref(method),
                                           ctypes.byref(mse)))
            self._batch = 0
        return ("svd" if method.value == 1 else "cholesky"), mse.value

    # ---- persistence
    def save(self, path):
        p = _path_arg(path, "save: path")
        with self._hold():
            _check(_lib.nn_net_save(self.handle, p))

    @classmethod
    def load(cls, path):
        p = _path_arg(path, "load: path")
        h = _vp()
        _check(_lib.nn_net_load(ctypes.byref(h), p))
        return cls._from_handle(h)

    def save_checkpoint(self, path, optimizer):
        """The net with optimizer's whole state (kind, settings, step count,
        moments) to path, atomically (nn_checkpoint_save):
        libnnfs.load_checkpoint(path) or `nnfs train --resume path`
        continue the training exactly where it stopped.  optimizer must
        be bound to this net (given to fit, or created with net=self)."""
        p = _path_arg(path, "save_checkpoint: path")
        if not isinstance(optimizer, Optimizer):
            raise TypeError("libnnfs: save_checkpoint: optimizer must be an "
                            "Optimizer, got %s" % type(optimizer).__name__)
        if optimizer._net is not self:
            raise ValueError("libnnfs: save_checkpoint: optimizer is not "
                             "bound to this net")
        with self._hold():
            _check(_lib.nn_checkpoint_save(self.handle, optimizer.handle, p))

    def to_bytes(self):
        with self._hold():
            return _save_bytes(_lib.nn_net_save_buffer, self.handle)

    @classmethod
    def from_bytes(cls, data):
        h = _load_bytes(_lib.nn_net_load_buffer, data)
        return cls._from_handle(h)

    # ---- ONNX
    def to_onnx(self, path=None):
        """The network as an ONNX model (opset 13, see nn_net_export_onnx):
        written atomically to path, or returned as bytes when path is
        None.  Raises UnsupportedError in a build without protobuf-c."""
        if path is None:
            return _save_bytes(_lib.nn_net_export_onnx_buffer, self.handle)
        _check(_lib.nn_net_export_onnx(self.handle, os.fsencode(path)))
        return None

    @classmethod
    def from_onnx(cls, source):
        """A Net from an ONNX model: a path (str or os.PathLike) or the
        model's bytes (bytes, bytearray, memoryview), e.g. what
        torch.onnx.export wrote for an nn.Sequential of Linear layers and
        ReLU/Sigmoid/Tanh/Softmax/Identity.  Anything else raises
        UnsupportedError naming the node, its op and the attribute."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            return cls._from_handle(
                _load_bytes(_lib.nn_net_import_onnx_buffer, source))
        h = _vp()
        _check(_lib.nn_net_import_onnx(ctypes.byref(h), os.fsencode(source)))
        return cls._from_handle(h)

    # ---- training loop
    def fit(self, x, y=None, labels=None, optimizer=None, epochs=1,
            batch_size=0, loss="cce", shuffle=True, seed=0,
            validation=None, accuracy=None, precision=0.0, progress=None,
            report_every=0, callback=None, comm=None):
        """Train with nn_trainer.  Give targets y [n, n_out] or labels [n].
        optimizer: an Optimizer for this net (default Adam()).
        validation: (val_x, val_y_or_labels).  progress: None = a bar on a
        tty and lines otherwise, False = silent, or a file.  callback(ep,
        metrics) may return True to stop.  epochs (>= 1), batch_size (0 =
        the whole set), report_every and seed are integers up to 9e15.
        Returns a history dict of per epoch lists: epoch, loss, accuracy,
        val_loss, val_accuracy, learning_rate, seconds.

        The fit holds the net's lock until it returns: other threads'
        calls on this net or its optimizers wait for it.  Its callback runs
        on this thread and may use the net (predict, get_weights, ...), but
        closing the net or the fit's optimizer there raises StateError.

        comm (an mpi4py communicator; needs libnnfs_mpi): this is one
        rank's part of a data-parallel fit over comm's ranks, x its own
        rows (see libnnfs.mpi and "Data-parallel fits" in nnfs.h)."""
        if (y is None) == (labels is None):
            raise InvalidArgError("fit: give exactly one of y and labels")
        if callback is not None and not callable(callback):
            raise TypeError("libnnfs: fit: callback must be callable, got "
                            "%s" % type(callback).__name__)
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError("libnnfs: fit: optimizer must be an Optimizer "
                            "(SGD, Adagrad, RMSprop, Adam), got %s"
                            % type(optimizer).__name__)
        # every setting checked before anything is created or trained
        cnt = "double (a count)"
        epochs = _int_arg(epochs, "fit: epochs", cnt)
        settings = [(2, epochs),
                    (1, _int_arg(batch_size, "fit: batch_size", cnt)),
                    (3, 1 if _bool_arg(shuffle, "fit: shuffle") else 0),
                    (4, _int_arg(seed, "fit: seed", cnt)),
                    (6, _real_arg(precision, "fit: precision")),
                    (7, _int_arg(report_every, "fit: report_every", cnt))]
        code = _lookup(LOSSES, loss, "fit: loss")
        if y is not None:   # labels always train with cce
            settings.append((0, code))
        if accuracy is not None:
            settings.append((5, _lookup(ACCURACY, accuracy,
                                        "fit: accuracy")))
        with self._hold() as guard:
            return self._fit_locked(guard, x, y, labels, optimizer,
                                    settings, validation, progress,
                                    callback, epochs, comm)

    def _fit_locked(self, guard, x, y, labels, optimizer, settings,
                    validation, progress, callback, epochs, comm=None):
        h = self.handle
        n_out = self.n_out
        x = self._x(x)
        n = x.shape[0]
        if labels is not None:
            lab = _as_array(labels, np.int32, "labels", (n,))
            tg = None
        else:
            yy = np.asarray(y)
            if yy.ndim == 1 and n_out == 1:
                yy = yy.reshape(-1, 1)
            tg = _as_array(yy, np.float32, "y", (n, n_out))
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
                               "validation targets", (nv, n_out))
        # the library checks the declared row widths too (NN_TRAIN_X_COLS,
        # NN_TRAIN_VAL_X_COLS)
        settings = settings + [(8, x.shape[1])]
        if vx is not None:
            settings.append((9, vx.shape[1]))
        if optimizer is None:
            optimizer = Adam(self)
        optimizer._bind(self)
        if optimizer._net is not self:
            raise InvalidArgError("fit: the optimizer belongs to another net")
        oh = optimizer.handle   # same guard as the net: its lock is held

        history = {k: [] for k in ("epoch", "loss", "accuracy", "val_loss",
                                   "val_accuracy", "learning_rate",
                                   "seconds")}
        bar = _Progress(progress, epochs)
        errors = []
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
        tr = _vp()
        _check(_lib.nn_trainer_create(ctypes.byref(tr), h, oh))
        # the trainer uses the net and the optimizer until it is destroyed;
        # the callback must not close them under it
        busy = [(self, "fit()"), (optimizer, "fit()")]
        guard.busy.extend(busy)
        try:
            for code, val in settings:
                _check(_lib.nn_trainer_set(tr, code, float(val)))
            _check(_lib.nn_trainer_set_callback(tr, cb, None))
            if comm is not None:   # libnnfs_mpi's sync (nnfs_mpi.h)
                from . import mpi as _mpi
                _mpi.attach(tr, comm)
            _check(_lib.nn_trainer_fit(tr, _ptr(x), _ptr(tg), _ptr(lab), n,
                                       _ptr(vx), _ptr(vt), _ptr(vl), nv))
        finally:
            _lib.nn_trainer_destroy(tr)
            for entry in busy:
                guard.busy.remove(entry)
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

_BIND = threading.Lock()   # claims an optimizer for a net (innermost lock)


class Optimizer(_Handle):
    """Base of SGD, Adagrad, RMSprop, Adam.  Settings are keyword arguments
    (learning_rate, decay, momentum, epsilon, rho, beta1, beta2: real
    numbers; iterations: an integer).  Give the net now or let fit() bind
    it.  The optimizer keeps its net alive and shares the net's lock:
    its calls and the net's take turns between threads (see Net)."""
    kind = None

    def __init__(self, net=None, **settings):
        for k, v in settings.items():
            _lookup(OPT_SETTINGS, k, "optimizer setting")
            _real_arg(v, "%s: %s" % (type(self).__name__, k))
        self._settings = dict(settings)
        self._net = None
        if net is not None:
            self._bind(net)

    def _bind(self, net):
        if not isinstance(net, Net):
            raise TypeError("libnnfs: %s: net must be a Net, got %s"
                            % (type(self).__name__, type(net).__name__))
        with net._hold():
            with _BIND:   # two nets binding one optimizer: one wins
                if self._net is not None:
                    return
                self._net = net    # keeps the net alive while we live
            try:
                h = _vp()
                _check(_lib.nn_optimizer_create(ctypes.byref(h), net.handle,
                                                self.kind))
            except BaseException:
                self._net = None
                raise
            # the guard before the handle: a call that sees the guard waits
            # on the net's lock, held here until the handle is in place
            self._guard = net._guard
            self._own(h.value, _lib.nn_optimizer_destroy)
            net._dependents.add(self)
            try:
                for k, v in self._settings.items():
                    self[k] = v
            except BaseException:
                self.close()
                raise

    def __setitem__(self, key, value):
        code = _lookup(OPT_SETTINGS, key, "optimizer setting")
        v = _real_arg(value, "%s[%r]" % (type(self).__name__, key))
        with self._hold():
            _check(_lib.nn_optimizer_set(self.handle, code, v))

    def __getitem__(self, key):
        table = dict(OPT_SETTINGS, current_learning_rate=8)
        code = _lookup(table, key, "optimizer setting")
        v = _dbl()
        with self._hold():
            _check(_lib.nn_optimizer_get(self.handle, code, ctypes.byref(v)))
        return v.value

    @property
    def current_learning_rate(self):
        return self["current_learning_rate"]

    def step(self):
        """Update the net with the gradients of its last backward."""
        with self._hold():
            _check(_lib.nn_optimizer_step(self.handle))

    def reset(self):
        with self._hold():
            _check(_lib.nn_optimizer_reset(self.handle))


class SGD(Optimizer):
    kind = OPTIMIZERS["sgd"]


class Adagrad(Optimizer):
    kind = OPTIMIZERS["adagrad"]


class RMSprop(Optimizer):
    kind = OPTIMIZERS["rmsprop"]


class Adam(Optimizer):
    kind = OPTIMIZERS["adam"]


def _wrap_optimizer(net, h):
    """An Optimizer of the class of its kind around the C handle h, bound
    to net (which keeps it alive and shares its lock)."""
    kind = _lib.nn_optimizer_kind(h)
    cls = next((c for c in (SGD, Adagrad, RMSprop, Adam) if c.kind == kind),
               Optimizer)
    opt = cls.__new__(cls)
    opt._settings = {}
    opt._net = net
    opt._guard = net._guard
    opt._own(h, _lib.nn_optimizer_destroy)
    net._dependents.add(opt)
    return opt


def load_checkpoint(path):
    """(net, optimizer) from a checkpoint written by Net.save_checkpoint,
    `nnfs train --checkpoint` or nn_checkpoint_save: the optimizer (SGD,
    Adagrad, RMSprop or Adam, as saved) bound to net with its settings,
    step count and moments, so net.fit(..., optimizer=optimizer) or
    optimizer.step() continue bit for bit.  optimizer is None when the
    file is a plain model (Net.save)."""
    p = _path_arg(path, "load_checkpoint: path")
    net_h, opt_h = _vp(), _vp()
    _check(_lib.nn_checkpoint_load(ctypes.byref(net_h), ctypes.byref(opt_h),
                                   p))
    net = Net._from_handle(net_h)
    return net, (_wrap_optimizer(net, opt_h.value) if opt_h.value else None)


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
    divides each component by sqrt(variance + epsilon).

    Threads: one lock per PCA, held across every C call on it: calls from
    several threads take turns, and close() (or a new fit) waits for a
    transform in progress."""

    def __init__(self, k, whiten=False, epsilon=0.0):
        self.k = _int_arg(k, "PCA: k")
        self.whiten = _bool_arg(whiten, "PCA: whiten")
        self.epsilon = _real_arg(epsilon, "PCA: epsilon")
        self._guard = _Guard()

    def _adopt(self, h):
        with self._hold():
            self._free()
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
        k = _int_arg(self.k, "PCA: k")
        whiten = _bool_arg(self.whiten, "PCA: whiten")
        eps = _real_arg(self.epsilon, "PCA: epsilon")
        x = _as_array(x, np.float32, "x", (None, None))
        h = _vp()
        _check(_lib.nn_pca_fit(ctypes.byref(h), _ptr(x), x.shape[0],
                               x.shape[1], k, 1 if whiten else 0, eps))
        return self._adopt(h)

    def fit_transform(self, x):
        return self.fit(x).transform(x)

    def transform(self, x, out=None):
        """Project x [n, n_features] onto the components: [n, k].  out may
        overlap x (x is then copied first)."""
        with self._hold():
            h = self.handle
            x = _as_array(x, np.float32, "x",
                          (None, _lib.nn_pca_num_features(h)),
                          allow_1d_row=True)
            out = _out_array(out, (x.shape[0],
                                   _lib.nn_pca_num_components(h)))
            x = _unaliased(x, out)
            if x.shape[0]:
                _check(_lib.nn_pca_transform(h, _ptr(x), x.shape[0],
                                             _ptr(out)))
            return out

    def inverse_transform(self, z, out=None):
        """Map z [n, k] back to the input space: [n, n_features].  out may
        overlap z (z is then copied first)."""
        with self._hold():
            h = self.handle
            z = _as_array(z, np.float32, "z",
                          (None, _lib.nn_pca_num_components(h)),
                          allow_1d_row=True)
            out = _out_array(out, (z.shape[0], _lib.nn_pca_num_features(h)))
            z = _unaliased(z, out)
            if z.shape[0]:
                _check(_lib.nn_pca_inverse_transform(h, _ptr(z), z.shape[0],
                                                     _ptr(out)))
            return out

    @property
    def n_features(self):
        with self._hold():
            return _lib.nn_pca_num_features(self.handle)

    @property
    def n_components(self):
        with self._hold():
            return _lib.nn_pca_num_components(self.handle)

    @property
    def mean(self):
        """The training mean, float64 [n_features]."""
        with self._hold():
            h = self.handle
            m = np.empty(_lib.nn_pca_num_features(h), dtype=np.float64)
            _check(_lib.nn_pca_get_params(h, _ptr(m), None))
            return m

    @property
    def components(self):
        """float32 [k, n_features], one unit component per row."""
        with self._hold():
            h = self.handle
            c = np.empty((_lib.nn_pca_num_components(h),
                          _lib.nn_pca_num_features(h)), dtype=np.float32)
            _check(_lib.nn_pca_get_params(h, None, _ptr(c)))
            return c

    def _variance(self):
        with self._hold():
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
        with self._hold():
            if self.closed:
                return "PCA(k=%d, unfitted or closed)" % self.k
            return "PCA(%d -> %d%s)" % (self.n_features, self.n_components,
                                        ", whitened" if self.whiten else "")

    def save(self, path):
        p = _path_arg(path, "PCA.save: path")
        with self._hold():
            _check(_lib.nn_pca_save(self.handle, p))

    @classmethod
    def load(cls, path):
        p = _path_arg(path, "PCA.load: path")
        h = _vp()
        _check(_lib.nn_pca_load(ctypes.byref(h), p))
        return cls(1)._adopt(h)

    def to_bytes(self):
        with self._hold():
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
        code = _lookup(LOSSES, kind, "loss: kind")
        t = _as_array(targets, np.float32, "targets", (b, k))
        _check(_lib.nn_loss_compute(code, _ptr(out), _ptr(t), b, k,
                                    ctypes.byref(v)))
    return v.value


def accuracy(out, labels):
    """Fraction of rows whose argmax equals the label."""
    out = _as_array(out, np.float32, "out", (None, None))
    lab = _as_array(labels, np.int32, "labels", (out.shape[0],))
    v = _flt()
    _check(_lib.nn_accuracy(_ptr(out), out.shape[0], out.shape[1], _ptr(lab),
                            ctypes.byref(v)))
    return v.value


def _classes_data(what, fn, samples, classes, seed):
    samples = _int_arg(samples, what + ": samples")
    classes = _int_arg(classes, what + ": classes")
    seed = _int_arg(seed, what + ": seed", "uint64_t")
    if samples * classes > _CTYPE_RANGE["size_t"][1]:
        raise OverflowError("libnnfs: %s: samples * classes = %d * %d "
                            "overflows size_t" % (what, samples, classes))
    x = np.empty((samples * classes, 2), dtype=np.float32)
    y = np.empty(samples * classes, dtype=np.int32)
    _check(fn(_ptr(x), _ptr(y), samples, classes, _u64(seed)))
    return x, y


def spiral_data(samples, classes, seed=0):
    """The course's spiral set: X [samples*classes, 2] float32, y int32."""
    return _classes_data("spiral_data", _lib.nn_data_spiral, samples,
                         classes, seed)


def vertical_data(samples, classes, seed=0):
    return _classes_data("vertical_data", _lib.nn_data_vertical, samples,
                         classes, seed)


def sine_data(samples=1000):
    """X [samples, 1] = i/samples, y [samples, 1] = sin(2 pi X)."""
    samples = _int_arg(samples, "sine_data: samples")
    x = np.empty((samples, 1), dtype=np.float32)
    y = np.empty((samples, 1), dtype=np.float32)
    _check(_lib.nn_data_sine(_ptr(x), _ptr(y), samples))
    return x, y


def shuffle(x, y=None, labels=None, seed=0):
    """Shuffled copies of x (and y / labels) with one seeded permutation."""
    seed = _int_arg(seed, "shuffle: seed", "uint64_t")
    x = np.array(_as_array(x, np.float32, "x", (None, None)))
    n = x.shape[0]
    yy = None if y is None else \
        np.array(_as_array(y, np.float32, "y", (n, None)))
    ll = None if labels is None else \
        np.array(_as_array(labels, np.int32, "labels", (n,)))
    _check(_lib.nn_data_shuffle(_ptr(x), n, x.shape[1], _ptr(yy),
                                0 if yy is None else yy.shape[1], _ptr(ll),
                                _u64(seed)))
    return tuple(a for a in (x, yy, ll) if a is not None) \
        if (yy is not None or ll is not None) else x


def load_idx(path, scale="unit"):
    """An IDX image file (plain or .gz) as float32 [count, sample_size];
    scale: none (0..255), unit ([0, 1]) or symmetric ([-1, 1])."""
    p = _path_arg(path, "load_idx: path")
    code = _lookup(SCALES, scale, "load_idx: scale")
    n, s = _sz(), _sz()
    _check(_lib.nn_idx_info(p, ctypes.byref(n), ctypes.byref(s)))
    out = np.empty((n.value, s.value), dtype=np.float32)
    _check(_lib.nn_idx_read(p, _ptr(out), n.value, s.value, code))
    return out


def load_idx_labels(path):
    """An IDX label file as int32 [count]."""
    p = _path_arg(path, "load_idx_labels: path")
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
    _check(_lib.nn_set_num_threads(_int_arg(n, "set_num_threads: n",
                                            "int")))


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
