# Stand-in for the pip bootstrap script that ansible-test downloads (from a host outside the package
# registries) to seed the virtual environments of its sanity tests. It does what that script does for
# ansible-test: put pip into the fresh environment (here from the interpreter's own ensurepip), then
# install the pip and packages ansible-test asks for, pinned by ansible-test, from the package index.
# scripts/ansible-test.sh copies it to the path ansible-test reads the cached script from.
"""Bootstrap pip into an empty virtual environment for ansible-test."""
from __future__ import annotations

import ensurepip
import os
import ssl
import subprocess
import sys

# ansible-test passes get-pip's own flags; pip install does not know them.
ARGS = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
ensurepip.bootstrap(upgrade=False, default_pip=True)
# The pip an older interpreter bundles (before 24.2) trusts only its own CA bundle, not the
# system's: hand it the certificates this interpreter's OpenSSL trusts (the pip it installs
# reads the system store itself).
PATHS = ssl.get_default_verify_paths()
CAFILE = PATHS.cafile or PATHS.openssl_cafile
CERT = ["--cert", CAFILE] if CAFILE and os.path.exists(CAFILE) else []
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *CERT, *ARGS]))
