"""Handle misuse through ctypes, as an FFI sees it: handles are plain
void pointers, so an optimizer can be passed where a net is expected and a
destroyed handle can be passed again.  The library must answer
NN_ERR_MISUSE, which the binding raises as libnnfs.MisuseError naming the
function, the argument and what it found; nothing crashes and a second
destroy frees nothing.

A keeping allocator (nn_set_allocator, installed before any handle
exists) holds freed blocks instead of releasing them, so a destroyed
handle stays readable and unreused, the case the check is documented to
catch.  Exit 77 (CTest SKIP) without numpy.
"""
import ctypes
import sys

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn
from libnnfs import _core

lib = _core._lib
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
ALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
kept = []
double_frees = 0


def _alloc(user, size):
    return libc.malloc(size)


def _free(user, p):
    global double_frees
    if p in kept:
        double_frees += 1
    else:
        kept.append(p)


alloc_cb, free_cb = ALLOC(_alloc), FREE(_free)
lib.nn_set_allocator.restype = ctypes.c_int
lib.nn_set_allocator.argtypes = [ALLOC, FREE, ctypes.c_void_p]
assert lib.nn_set_allocator(alloc_cb, free_cb, None) == 0

checks = 0


def expect_misuse(status, text):
    """status came from a C call: _check must raise MisuseError with
    exactly text."""
    global checks
    try:
        _core._check(status)
    except nn.MisuseError as e:
        assert isinstance(e, nn.NNError) and e.status == 9, e
        assert e.status_name == "NN_ERR_MISUSE", e.status_name
        assert e.message == text, (e.message, text)
        checks += 1
        print("  ok MisuseError %s" % e.message)
        return
    raise AssertionError("status %d did not raise MisuseError (%s)"
                         % (status, text))


def new_net():
    h = ctypes.c_void_p()
    sizes = (ctypes.c_size_t * 3)(2, 4, 2)
    acts = (ctypes.c_int32 * 2)(1, 4)
    _core._check(lib.nn_net_create(ctypes.byref(h), 2, sizes, acts, 1))
    return h.value


def new_opt(net):
    h = ctypes.c_void_p()
    _core._check(lib.nn_optimizer_create(ctypes.byref(h), net, 3))
    return h.value


x = np.array([[0.5, -1.0], [0.25, 2.0]], dtype=np.float32)
out = np.zeros((2, 2), dtype=np.float32)
px, pout = x.ctypes.data, out.ctypes.data

net = new_net()
opt = new_opt(net)
assert lib.nn_forward(net, px, 2, pout) == 0

# wrong type: an optimizer where the net goes, a net where the optimizer goes
expect_misuse(lib.nn_forward(opt, px, 2, pout),
              "nn_forward: net is not a live nn_net (it is an nn_optimizer)")
expect_misuse(lib.nn_optimizer_step(net),
              "nn_optimizer_step: opt is not a live nn_optimizer (it is an "
              "nn_net)")
assert lib.nn_net_num_layers(opt) == 0
assert _core._lib.nn_last_error().decode() == (
    "nn_net_num_layers: net is not a live nn_net (it is an nn_optimizer)")
lib.nn_net_destroy(opt)          # frees nothing
assert kept == [] and double_frees == 0
assert lib.nn_forward(net, px, 2, pout) == 0   # both still work
assert lib.nn_optimizer_reset(opt) == 0

# the net destroyed under its optimizer, then used again
lib.nn_net_destroy(net)
n_kept = len(kept)
assert n_kept > 0
expect_misuse(lib.nn_forward(net, px, 2, pout),
              "nn_forward: net is not a live nn_net (it was destroyed)")
expect_misuse(lib.nn_optimizer_step(opt),
              "nn_optimizer_step: opt's net is not a live nn_net (it was "
              "destroyed)")
assert lib.nn_net_num_params(net) == 0
lib.nn_net_destroy(net)          # a second destroy: harmless
assert len(kept) == n_kept and double_frees == 0
assert lib.nn_last_error().decode() == (
    "nn_net_destroy: net is not a live nn_net (it was destroyed)")
lib.nn_optimizer_destroy(opt)
lib.nn_optimizer_destroy(opt)
assert double_frees == 0

# every block returned: the default allocator can come back
NULL_ALLOC, NULL_FREE = ctypes.cast(None, ALLOC), ctypes.cast(None, FREE)
assert lib.nn_set_allocator(NULL_ALLOC, NULL_FREE, None) == 0
for p in kept:
    libc.free(p)
checks += 1
print("ok: %d checks" % checks)
