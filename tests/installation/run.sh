#!/usr/bin/env bash
# Proves what the README says about using the library:
# - the installed tree of the main build (static and shared libraries) serves a C program and
#   a C++ program through pkg-config, a C++ CMake project and a C-only CMake project
#   (each against the static and against the shared library), and every program runs;
# - the shared library has the SONAME libpop3decode.so.<major> and exports only the API;
# - the library alone configures, builds and installs without Wireshark or Catch2, as a static
#   library (BUILD_SHARED_LIBS=OFF) and as a shared one (BUILD_SHARED_LIBS=ON).
# Usage: run.sh <build dir> [compiler launcher, e.g. ccache]
set -euo pipefail
build_dir=$1
launcher=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
header=$source_dir/libpop3decode/include/pop3decode/pop3decode.h
major=$(sed -n 's/^#define POP3D_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")

fail() {
  echo "installation: FAILED: $*" >&2
  exit 1
}
quiet() {  # runs a command, shows its output only when it fails
  local log=$work/log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}
libdir_of() { dirname "$(dirname "$(find "$1" -name pop3decode.pc)")"; }
needs_shared_lib() { readelf -d "$1" | grep -q "NEEDED.*\[libpop3decode\.so\.$major\]"; }

# Builds and runs the CMake consumers (C++ and C-only) against an installed prefix; checks
# that the *_shared programs load libpop3decode.so and the *_static ones do not.
cmake_consumers() {
  local prefix=$1 name=$2
  local project dir kind
  for project in cxx c; do
    dir=$work/$name-$project
    if [ $project = cxx ]; then src=$here; else src=$here/c; fi
    quiet cmake -S "$src" -B "$dir" -DCMAKE_PREFIX_PATH="$prefix"
    quiet cmake --build "$dir"
    "$dir/consumer" || fail "$name $project consumer"
    for kind in shared static; do
      [ -e "$dir/consumer_$kind" ] || continue
      "$dir/consumer_$kind" || fail "$name $project consumer_$kind"
      if [ $kind = shared ]; then
        needs_shared_lib "$dir/consumer_$kind" || fail "$name $project consumer_shared"
      else
        ! needs_shared_lib "$dir/consumer_$kind" || fail "$name $project consumer_static"
      fi
      echo "installation: $name: CMake $project project against the $kind library: ran"
    done
  done
}

# pkg-config consumers: C always; C++ too when asked.
pkgconfig_consumers() {
  local prefix=$1 name=$2 with_cxx=$3
  local libdir
  libdir=$(libdir_of "$prefix")
  export PKG_CONFIG_PATH=$libdir/pkgconfig
  # shellcheck disable=SC2046
  quiet cc "$here/consumer.c" -o "$work/$name-pc-c" $(pkg-config --cflags --libs pop3decode)
  LD_LIBRARY_PATH=$libdir "$work/$name-pc-c" || fail "$name pkg-config C consumer"
  echo "installation: $name: C program linked with pkg-config --cflags --libs: ran"
  if [ "$with_cxx" = yes ]; then
    # shellcheck disable=SC2046
    quiet c++ -std=c++20 "$here/consumer.cpp" -o "$work/$name-pc-cxx" \
      $(pkg-config --cflags --libs pop3decode)
    LD_LIBRARY_PATH=$libdir "$work/$name-pc-cxx" || fail "$name pkg-config C++ consumer"
    echo "installation: $name: C++ program linked with pkg-config --cflags --libs: ran"
  fi
}

# 1. The main build's installation: both libraries.
prefix=$work/prefix
quiet cmake --install "$build_dir" --prefix "$prefix" --component library
libdir=$(libdir_of "$prefix")
# The installed headers are exactly the supported ones (the internals stay in the source tree).
headers=$(cd "$prefix/include" && find . -type f | sort | xargs)
expected="./pop3decode/event.hpp ./pop3decode/pop3decode.h ./pop3decode/sasl.hpp"
expected="$expected ./pop3decode/session.hpp ./pop3decode/tcp.hpp ./pop3decode/url.hpp"
[ "$headers" = "$expected" ] || fail "installed headers: $headers (expected: $expected)"
echo "installation: headers installed: $headers"
[ -e "$libdir/libpop3decode.a" ] || fail "no libpop3decode.a installed"
readelf -d "$libdir/libpop3decode.so" | grep -q "SONAME.*\[libpop3decode\.so\.$major\]" ||
  fail "libpop3decode.so has no SONAME libpop3decode.so.$major"
[ -L "$libdir/libpop3decode.so.$major" ] || fail "no libpop3decode.so.$major link installed"
# Exported: the C functions (pop3d_*) and the C++ API (namespace pop3decode), nothing else
# but weak instantiations of standard templates (libstdc++ gives namespace std default
# visibility; every user of those templates has its own copy).
others=$(nm -D --defined-only "$libdir/libpop3decode.so" | c++filt |
  awk '!($2 == "W" && $3 ~ /^std::/) { $1 = $2 = ""; print }' |
  grep -v -E '^ +(pop3d_[a-z0-9_]+|((typeinfo|typeinfo name|vtable) for )?pop3decode::.*)$' || true)
[ -z "$others" ] || fail "symbols outside the API are exported: $others"
pkgconfig_consumers "$prefix" both yes
libs=$(pkg-config --libs-only-l pop3decode | xargs)
[ "$libs" = "-lpop3decode" ] || fail "pkg-config --libs should name the library alone: $libs"
pc_c=$work/both-pc-c
needs_shared_lib "$pc_c" || fail "the pkg-config C consumer does not load libpop3decode.so.$major"
cmake_consumers "$prefix" both

# 2. The library alone, as the README says, with Wireshark and Catch2 made unfindable.
lib_build=$work/build-lib
configure_lib() {
  quiet cmake -S "$source_dir" -B "$lib_build" -DPOP3DECODE_BUILD_TESTS=OFF \
    -DPOP3DECODE_BUILD_PLUGIN=OFF -DCMAKE_DISABLE_FIND_PACKAGE_Wireshark=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher} \
    "$@"
  quiet cmake --build "$lib_build" -j2
}
configure_lib -DBUILD_SHARED_LIBS=OFF
quiet cmake --install "$lib_build" --prefix "$work/static"
libdir=$(libdir_of "$work/static")
[ -e "$libdir/libpop3decode.a" ] && [ ! -e "$libdir/libpop3decode.so" ] ||
  fail "BUILD_SHARED_LIBS=OFF should install libpop3decode.a alone"
echo "installation: library alone, BUILD_SHARED_LIBS=OFF: built and installed libpop3decode.a"
pkgconfig_consumers "$work/static" static yes
cmake_consumers "$work/static" static

configure_lib -DBUILD_SHARED_LIBS=ON
quiet cmake --install "$lib_build" --prefix "$work/shared"
libdir=$(libdir_of "$work/shared")
[ ! -e "$libdir/libpop3decode.a" ] && [ -e "$libdir/libpop3decode.so" ] ||
  fail "BUILD_SHARED_LIBS=ON should install libpop3decode.so alone"
echo "installation: library alone, BUILD_SHARED_LIBS=ON: built and installed libpop3decode.so"
pkgconfig_consumers "$work/shared" shared no
cmake_consumers "$work/shared" shared
echo "installation: all consumers built and ran"
