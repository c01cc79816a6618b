# Debian packages made by `cpack -G DEB` from a build folder (configure with
# -DCMAKE_INSTALL_PREFIX=/usr for a system package):
#   wireshark-plugin-pop3decode  install component `plugin`: the module, in the system plugin
#                                folder of the Wireshark it was built against, depending on that
#                                Wireshark's libwireshark ABI package (plugin/CMakeLists.txt finds
#                                its name with dpkg -S)
#   libpop3decode-dev            install component `library`: whatever the library installs
#                                (headers, CMake package, pkg-config file, libraries)
get_cmake_property(pop3decode_components COMPONENTS)
set(CPACK_COMPONENTS_ALL "")
foreach(component plugin library)
  if(component IN_LIST pop3decode_components)
    list(APPEND CPACK_COMPONENTS_ALL ${component})
  endif()
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pop3decode)
set(CPACK_PACKAGE_VENDOR pop3decode)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "POP3 decoding library and Wireshark dissector plugin")
set(CPACK_PACKAGE_CONTACT "pop3decode maintainers <pop3decode@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
find_program(POP3DECODE_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(POP3DECODE_FILE file)

set(CPACK_DEBIAN_PLUGIN_PACKAGE_NAME wireshark-plugin-pop3decode)
set(CPACK_COMPONENT_PLUGIN_DESCRIPTION
    "POP3 dissector plugin for Wireshark and tshark, built on libpop3decode\n"
    "Decodes POP3 (RFC 1939) with CAPA, SASL, APOP, STLS and pipelining into pop3.* fields.")
get_property(pop3decode_ws_deb GLOBAL PROPERTY POP3DECODE_WIRESHARK_DEB)
get_property(pop3decode_ws_version GLOBAL PROPERTY POP3DECODE_WIRESHARK_VERSION)
if(pop3decode_ws_deb)
  # The Wireshark major.minor is part of the version: each build is for one libwireshark ABI.
  set(CPACK_DEBIAN_PLUGIN_PACKAGE_DEPENDS
      "${pop3decode_ws_deb} (>= ${pop3decode_ws_version})")
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE pop3decode_arch
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(pop3decode_arch)
    # The file name says which Wireshark it is for.
    set(CPACK_DEBIAN_PLUGIN_FILE_NAME
        "wireshark-plugin-pop3decode_${PROJECT_VERSION}+ws${pop3decode_ws_version}_${pop3decode_arch}.deb")
  endif()
endif()
if(POP3DECODE_DPKG_SHLIBDEPS AND POP3DECODE_FILE)
  # The other shared libraries the module needs (libc, GLib, libcrypto, libstdc++, ...).
  set(CPACK_DEBIAN_PLUGIN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_LIBRARY_PACKAGE_SHLIBDEPS ON)
endif()

set(CPACK_DEBIAN_LIBRARY_PACKAGE_NAME libpop3decode-dev)
set(CPACK_DEBIAN_LIBRARY_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_LIBRARY_DESCRIPTION
    "POP3 decoding library (C++20 API and C ABI): development files\n"
    "Headers, CMake package (find_package(pop3decode)), pkg-config file and libraries.")
# pop3decodeConfig.cmake finds OpenSSL's crypto library; the pkg-config file names libcrypto.
set(CPACK_DEBIAN_LIBRARY_PACKAGE_DEPENDS "libssl-dev")

include(CPack)
