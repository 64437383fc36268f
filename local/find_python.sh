#!/bin/sh
# Prints the path of a Python of the wanted minor version (e.g. 3.13), or
# nothing: first `pythonX.Y` on PATH if it runs (a pyenv shim may not), then
# pyenv's installed versions. The Makefile builds .venv from it.
want="$1"
for candidate in "python$want" "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/$want"*/bin/"python$want"; do
  if "$candidate" -c "import sys; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; then
    command -v "$candidate" 2>/dev/null || echo "$candidate"
    exit 0
  fi
done
for root in "$HOME/.pyenv" /root/.pyenv /usr/local /opt/python; do
  for candidate in "$root/versions/$want"*/bin/"python$want" "$root/bin/python$want"; do
    [ -x "$candidate" ] && "$candidate" -c "import sys" 2>/dev/null && { echo "$candidate"; exit 0; }
  done
done
exit 0
