"""exp and log that LLVM can vectorise inside numba loops, in float64 and float32.

numba calls the C library's scalar ``exp``/``log``, which blocks SIMD vectorisation of the
fused CASA kernel (and SVML is not available on every machine). These branch-free versions
use the classic range reductions (x = k ln2 + r; x = 2^e m) with Taylor/atanh series:
:func:`fexp`/:func:`flog` to ~1e-14 relative (tested to 1e-13 against numpy),
:func:`fexp32`/:func:`flog32` to ~3e-7 relative, a few float32 ulp (tested to 5e-7), at
twice the SIMD lanes. :func:`fast_exp`/:func:`fast_log` pick the one of the argument's
precision, so one kernel source serves float32 and float64 inputs.

Integer steps stay in the float's own width (numba widens integers to int64, which AVX2
cannot convert to float in SIMD: the exponent goes through the 2**23 or 2**52 trick).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.core import types
from numba.extending import intrinsic, overload

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_EXP_CLAMP = 708.0
_SHIFTER = 6755399441055744.0   # 1.5 * 2**52


def _bitcast(source, target):
    """A numba intrinsic reinterpreting the bits of a ``source`` value as ``target``
    (same width): what C does with a union, without a memory round trip."""
    @intrinsic
    def cast(typingctx, value):
        if value != source:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))
        return target(source), codegen
    cast.__doc__ = f"Reinterpret {source} bits as {target}."
    return cast


_as_float = _bitcast(types.int64, types.float64)
_as_int = _bitcast(types.float64, types.int64)
as_int32 = _bitcast(types.float32, types.int32)
_as_float32 = _bitcast(types.int32, types.float32)

# float32 constants: a float64 one in a float32 expression would widen it to float64.
_F = np.float32
_LOG2E_32 = _F(_LOG2E)
_LN2_HI_32 = _F(0.693359375)          # ln 2 split so k * hi is exact for |k| <= 2**11
_LN2_LO_32 = _F(_LN2 - 0.693359375)
_LN2_32 = _F(_LN2)
_SQRT2_32 = _F(_SQRT2)
_EXP_LOW_32, _EXP_HIGH_32 = _F(-87.0), _F(88.0)
_SHIFTER_32 = _F(12582912.0)          # 1.5 * 2**23
_TWO23_PLUS_BIAS_32 = _F(8388608.0 + 127.0)


@numba.njit(inline="always", cache=True)
def fexp(x):
    """e**x for finite x; underflows to ~1e-308 below -708, saturates above 708."""
    x = min(max(x, -_EXP_CLAMP), _EXP_CLAMP)
    k = np.floor(x * _LOG2E + 0.5)
    # k + 1.5 * 2**52 holds k in its low mantissa bits, so 2**k is built with integer
    # add/shift only: AVX2 has no double -> int64 conversion, and np.int64(k) would stop
    # LLVM vectorising every loop that calls fexp. (Rounding stays with floor, not with
    # the shifter, so fastmath "reassoc" in callers cannot fold it away.)
    kd = k + _SHIFTER
    r = (x - k * _LN2_HI) - k * _LN2_LO
    # Taylor series to r**12; |r| <= ln2/2 so the truncation error is < 1e-15 relative.
    p = 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    # (2**51 + k + 1023) << 52 keeps only the 12 low bits of k + 1023: the exponent field.
    return p * _as_float((_as_int(kd) + 1023) << 52)


@numba.njit(inline="always", cache=True)
def flog(x):
    """Natural log for positive normal x (callers guarantee x > 0)."""
    bits = _as_int(x)
    # Exponent as a float via the 2**52 trick: AVX2 has no int64 -> double conversion,
    # and without this LLVM refuses to vectorise the loop.
    e = _as_float(((bits >> 52) & 0x7FF) | 0x4330000000000000) - (4503599627370496.0 + 1023.0)
    m = _as_float((bits & 0xFFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1.0 if big else e
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    # 2 atanh(s) series to s**19; |s| <= 0.1716 gives < 1e-15 relative truncation error.
    q = 1.0 / 19.0
    q = q * s2 + 1.0 / 17.0
    q = q * s2 + 1.0 / 15.0
    q = q * s2 + 1.0 / 13.0
    q = q * s2 + 1.0 / 11.0
    q = q * s2 + 1.0 / 9.0
    q = q * s2 + 1.0 / 7.0
    q = q * s2 + 1.0 / 5.0
    q = q * s2 + 1.0 / 3.0
    q = q * s2 + 1.0
    return e * _LN2 + 2.0 * s * q


@numba.njit(inline="always", cache=True)
def fexp32(x):
    """e**x in float32 for finite x: 0 below -87 (as expf underflows, where the float64
    version would still be positive), saturating at e**88 ~ 1.7e38 above 88."""
    low = x < _EXP_LOW_32
    x = min(max(x, _EXP_LOW_32), _EXP_HIGH_32)
    k = np.floor(x * _LOG2E_32 + _F(0.5))
    kd = k + _SHIFTER_32
    r = (x - k * _LN2_HI_32) - k * _LN2_LO_32
    # Taylor series to r**7; |r| <= ln2/2 so the truncation error is < 6e-9 relative.
    p = _F(1.0 / 5040.0)
    p = p * r + _F(1.0 / 720.0)
    p = p * r + _F(1.0 / 120.0)
    p = p * r + _F(1.0 / 24.0)
    p = p * r + _F(1.0 / 6.0)
    p = p * r + _F(0.5)
    p = p * r + _F(1.0)
    p = p * r + _F(1.0)
    # the low 9 bits of (bits of kd) + 127 are k + 127: shifted, the exponent field of 2**k
    e = p * _as_float32(np.int32((as_int32(kd) + 127) << 23))
    return _F(0.0) if low else e


@numba.njit(inline="always", cache=True)
def flog32(x):
    """Natural log in float32 for positive normal x (callers guarantee x > 0)."""
    bits = as_int32(x)
    e = _as_float32(np.int32(((bits >> 23) & 0xFF) | 0x4B000000)) - _TWO23_PLUS_BIAS_32
    m = _as_float32(np.int32((bits & 0x7FFFFF) | 0x3F800000))
    big = m > _SQRT2_32
    m = m * _F(0.5) if big else m
    e = e + _F(1.0) if big else e
    s = (m - _F(1.0)) / (m + _F(1.0))
    s2 = s * s
    # 2 atanh(s) series to s**9; |s| <= 0.1716 gives < 2e-9 relative truncation error.
    q = _F(1.0 / 9.0)
    q = q * s2 + _F(1.0 / 7.0)
    q = q * s2 + _F(1.0 / 5.0)
    q = q * s2 + _F(1.0 / 3.0)
    q = q * s2 + _F(1.0)
    return e * _LN2_32 + _F(2.0) * s * q


def fast_exp(x):
    """e**x in the precision of ``x`` (compiled: :func:`fexp32` or :func:`fexp`)."""
    return np.exp(x)


def fast_log(x):
    """ln x in the precision of ``x`` (compiled: :func:`flog32` or :func:`flog`)."""
    return np.log(x)


def _by_precision(for_float32, for_float64):
    """A numba overload choosing the compiled function of the argument's precision. It
    returns the implementations themselves (not wrappers calling them): LLVM inlines them
    into the kernel's loops, which then vectorise."""
    def choose(x):
        if x == types.float32:
            return for_float32.py_func
        if x == types.float64:
            return for_float64.py_func
        return None
    return choose


overload(fast_exp)(_by_precision(fexp32, fexp))
overload(fast_log)(_by_precision(flog32, flog))
