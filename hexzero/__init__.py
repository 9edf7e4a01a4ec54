"""hexzero: AlphaZero on Hex for studying how reinforcement learning scales."""
import os as _os

# numba's default OpenMP threading layer shares libgomp with torch, and launching a numba
# parallel region resets the thread count torch reads (torch.set_num_threads(1) silently
# becomes 2 again), which made small-batch torch ops ~50x slower on a busy 2-core machine.
# numba's own work-queue pool has no such coupling. Set NUMBA_THREADING_LAYER to override.
if "NUMBA_THREADING_LAYER" not in _os.environ:
    import numba as _numba

    _numba.config.THREADING_LAYER = "workqueue"

__version__ = "0.1.0"
