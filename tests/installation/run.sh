#!/usr/bin/env bash
# Installs the library into a temporary prefix, then builds consumers with find_package and
# with pkg-config, and runs them.
set -euo pipefail
build_dir=$1
source_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" --component library >/dev/null
cmake -S "$source_dir" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
"$work/consumer/consumer"
export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig:$work/prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
c++ -std=c++20 "$source_dir/consumer.cpp" -o "$work/consumer-pc" \
  $(pkg-config --cflags pop3decode) $(pkg-config --libs --static pop3decode)
"$work/consumer-pc"
echo "installation: find_package and pkg-config consumers built and ran"
