"""
The exceptions brianlearn raises for machines that cannot run a device.

They live in their own module so that every device module (`devices`, `cuda`) can raise
them without importing each other.
"""

__all__ = ["DeviceError", "CompilerNotFoundError", "CUDANotAvailableError"]


class DeviceError(RuntimeError):
    """A device cannot be used on this machine."""


class CompilerNotFoundError(DeviceError):
    """No C++ compiler was found for a standalone device."""


class CUDANotAvailableError(DeviceError):
    """brian2cuda, the CUDA toolkit or a GPU is missing."""
