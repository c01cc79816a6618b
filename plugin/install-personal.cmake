# cmake -DPLUGIN=<pop3decode.so> -DWS_VERSION=<major.minor> -P install-personal.cmake
# Copies the plugin into the personal plugin folder of whoever runs the build ($HOME).
if(NOT DEFINED ENV{HOME} OR "$ENV{HOME}" STREQUAL "")
  message(FATAL_ERROR "HOME is not set")
endif()
set(dest "$ENV{HOME}/.local/lib/wireshark/plugins/${WS_VERSION}/epan")
file(MAKE_DIRECTORY "${dest}")
file(COPY "${PLUGIN}" DESTINATION "${dest}")
message(STATUS "Installed ${PLUGIN} to ${dest}")
