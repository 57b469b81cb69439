#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh - install what a fresh Debian machine lacks for ./test.sh:
# Doxygen (run time of `make docs`), and the development tools the checks
# use (clang, valgrind, and mscgen, which draws the races' --msc charts).
# Uses sudo when not root; does nothing when all is present.
set -e
missing=
command -v doxygen >/dev/null 2>&1 || missing="$missing doxygen"
command -v clang >/dev/null 2>&1 || missing="$missing clang"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v gcc >/dev/null 2>&1 || missing="$missing gcc"
command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
command -v mscgen >/dev/null 2>&1 || missing="$missing mscgen"
[ -z "$missing" ] && exit 0
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get install -y -q $missing >/dev/null 2>&1 || {
	$sudo apt-get update -q >/dev/null
	$sudo apt-get install -y -q $missing >/dev/null
}
