"""Windows: the machine's collector folder readable by SYSTEM and the Administrators alone.

On Windows a folder's protection is its ACL, not owner and mode bits (``folders.own_folder`` only creates
it there). The machine's state folder is below ``%ProgramData%\\clientcheck``, whose inherited ACL lets
every user read: the host key must not be. So the collector folder gets a protected DACL (nothing
inherited): full control for SYSTEM and BUILTIN\\Administrators, inherited by what is in it, set with
``SetNamedSecurityInfoW``, which also applies it to the files already there. A user's own collector folder
is in their profile, whose ACL is theirs already: left as it is.

Not run on this project's Linux test machines: type-checked for win32, and the SDDL text is tested.
"""

from __future__ import annotations

import sys

# P: protected (no inherited entries); OICI: inherited by files and folders inside; FA: full access.
MACHINE_ONLY_SDDL = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"


def protect(folder: str, *, machine: bool) -> None:
    """Give the machine's collector folder ``MACHINE_ONLY_SDDL``; ``OutputError`` when Windows refuses."""
    if not machine or sys.platform != "win32":
        return
    import ctypes
    from ctypes import wintypes

    from clientcheck.errors import OutputError

    advapi = ctypes.windll.advapi32
    descriptor = ctypes.c_void_p()
    if not advapi.ConvertStringSecurityDescriptorToSecurityDescriptorW(
        ctypes.c_wchar_p(MACHINE_ONLY_SDDL), 1, ctypes.byref(descriptor), None
    ):
        raise OutputError(f"cannot protect {folder}: {ctypes.FormatError()}")
    try:
        present, defaulted = wintypes.BOOL(), wintypes.BOOL()
        dacl = ctypes.c_void_p()
        if not advapi.GetSecurityDescriptorDacl(
            descriptor, ctypes.byref(present), ctypes.byref(dacl), ctypes.byref(defaulted)
        ):
            raise OutputError(f"cannot protect {folder}: {ctypes.FormatError()}")
        se_file_object = 1
        dacl_security_information = 0x00000004
        protected_dacl_security_information = 0x80000000
        status = advapi.SetNamedSecurityInfoW(
            ctypes.c_wchar_p(folder),
            se_file_object,
            dacl_security_information | protected_dacl_security_information,
            None,
            None,
            dacl,
            None,
        )
        if status != 0:
            raise OutputError(f"cannot make {folder} readable by administrators only: {ctypes.FormatError(status)}")
    finally:
        ctypes.windll.kernel32.LocalFree(descriptor)
