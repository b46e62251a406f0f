# shellcheck shell=bash disable=SC2034
# (variables here are used by the scripts that source this file)
# The virtualenv under $STRATUS_HOME/venv with Stratus installed from this
# checkout (editable: restarting a daemon picks up edited code).

STRATUS_INSTALL_STAMP=$STRATUS_VENV/.stratus-install-stamp

# What the installed copy depends on: the packaging files, the checkout's
# place and the interpreter.
stratus_install_hash() {
    {
        hash_files "$STRATUS_REPO/setup.cfg" "$STRATUS_REPO/setup.py"
        printf '%s\n' "$STRATUS_REPO"
        [ -x "$STRATUS_VENV/bin/python" ] && "$STRATUS_VENV/bin/python" -V
    } | sha256sum | cut -c1-32
}

install_stratus() {
    local version
    if [ ! -x "$STRATUS_VENV/bin/python" ]; then
        command -v "$PYTHON" >/dev/null 2>&1 || die "no $PYTHON found (set PYTHON=/path/to/python3.11)"
        version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
            die "Stratus needs Python >= 3.11; $PYTHON is $version (set PYTHON=...)"
        info "creating $STRATUS_VENV with $PYTHON ($version)"
        quiet "$PYTHON" -m venv "$STRATUS_VENV"
    fi
    if [ -f "$STRATUS_INSTALL_STAMP" ] && [ -x "$(venv_bin stratus-manage)" ] &&
        [ "$(cat "$STRATUS_INSTALL_STAMP")" = "$(stratus_install_hash)" ]; then
        info "Stratus is installed and setup.cfg is unchanged; skipping pip"
        return 0
    fi
    info "pip install -e ${STRATUS_REPO}[test] (a few minutes the first time; output in $STACK_LOG)"
    quiet "$STRATUS_VENV/bin/python" -m pip install -e "${STRATUS_REPO}[test]"
    # pip leaves build metadata in the checkout: give it back to the
    # checkout's owner (stack.sh runs as root, the checkout may be a user's).
    if [ -d "$STRATUS_REPO/stratus.egg-info" ]; then
        chown -R --reference="$STRATUS_REPO" "$STRATUS_REPO/stratus.egg-info" 2>/dev/null || true
    fi
    stratus_install_hash >"$STRATUS_INSTALL_STAMP"
    info "installed $("$STRATUS_VENV/bin/python" -m pip show stratus 2>/dev/null | sed -n 's/^Version: /stratus /p')"
}
