# cmake/BbtPackage.cmake — install layout and Debian packages (CPack DEB), included from the top
# CMakeLists.txt. Two packages, one per component:
#   banbantong-relay  /usr/bin/bbt-relay, /usr/bin/bbtctl, /usr/share/banbantong/web/ (pages),
#                     /etc/banbantong/relay.ini (conffile, kept on upgrade), the systemd unit
#                     bbt-relay.service, the system user `banbantong` (postinst) and its state
#                     directory /var/lib/banbantong/ (0750), and the host's TCP setting for far
#                     lossy links, /usr/lib/sysctl.d/60-banbantong-relay.conf (applied by postinst).
#   banbantong-node   /usr/bin/bbt-node, /etc/banbantong/node.ini (conffile), bbt-node.service,
#                     the same system user, state /var/lib/banbantong-node/.
# Build them with:  cmake -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build
#                   (cd build && cpack -G DEB)      -> build/banbantong-{relay,node}_VERSION_ARCH.deb
# Maintainer scripts and conffiles lists: deploy/debian/{relay,node}/; units: deploy/systemd/.
# Shared-library Depends come from dpkg-shlibdeps (dpkg-dev); run-time plugins the binaries load
# by name (lws's libev loop, GStreamer elements) are explicit Depends. Test: tests/ops/package.sh.
include(GNUInstallDirs)
# `cpack` installs what the build made: it does not rebuild every target (tests included) first.
# The package test runs after the build, so the three programs are there.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

set(BBT_DEB_DIR ${CMAKE_SOURCE_DIR}/deploy/debian)

install(TARGETS bbt-relay bbtctl RUNTIME DESTINATION bin COMPONENT relay)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/relay/web/ DESTINATION share/banbantong/web COMPONENT relay
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CMAKE_SOURCE_DIR}/config/relay.example.ini DESTINATION /etc/banbantong
        RENAME relay.ini PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT relay)
install(PROGRAMS ${CMAKE_SOURCE_DIR}/deploy/mkca.sh DESTINATION share/banbantong COMPONENT relay)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/bbt-relay.service
        DESTINATION /lib/systemd/system COMPONENT relay)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/sysctl/60-banbantong-relay.conf
        DESTINATION /usr/lib/sysctl.d COMPONENT relay)
install(FILES ${CMAKE_SOURCE_DIR}/config/timetable.example.csv
              ${CMAKE_SOURCE_DIR}/config/relay.example.ini
        DESTINATION share/doc/banbantong-relay/examples COMPONENT relay)
install(FILES ${CMAKE_SOURCE_DIR}/docs/operator-guide.zh-CN.md
              ${CMAKE_SOURCE_DIR}/docs/operator-guide.en.md ${CMAKE_SOURCE_DIR}/docs/SCHEDULE.md
              ${CMAKE_SOURCE_DIR}/docs/CONFIG.md ${CMAKE_SOURCE_DIR}/docs/METRICS.md
              ${CMAKE_SOURCE_DIR}/docs/DASHBOARD.md ${CMAKE_SOURCE_DIR}/docs/PLAYER.md
              ${CMAKE_SOURCE_DIR}/docs/SECURITY.md ${CMAKE_SOURCE_DIR}/docs/NODE.md
              ${CMAKE_SOURCE_DIR}/docs/PERFORMANCE.md
        DESTINATION share/doc/banbantong-relay COMPONENT relay)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/prometheus/banbantong-alerts.yml
        DESTINATION share/doc/banbantong-relay/examples COMPONENT relay)

install(TARGETS bbt-node RUNTIME DESTINATION bin COMPONENT node)
install(FILES ${CMAKE_SOURCE_DIR}/config/node.example.ini DESTINATION /etc/banbantong
        RENAME node.ini PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT node)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/bbt-node.service
        DESTINATION /lib/systemd/system COMPONENT node)
install(FILES ${CMAKE_SOURCE_DIR}/config/node.example.ini
        DESTINATION share/doc/banbantong-node/examples COMPONENT node)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_NAME banbantong)
set(CPACK_PACKAGE_VENDOR "banbantong")
set(CPACK_PACKAGE_CONTACT "banbantong maintainers <banbantong@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL relay node)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/banbantong/banbantong")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

set(CPACK_DEBIAN_RELAY_PACKAGE_NAME banbantong-relay)
set(CPACK_DEBIAN_RELAY_PACKAGE_DEPENDS "adduser, libwebsockets-evlib-ev")
set(CPACK_DEBIAN_RELAY_PACKAGE_RECOMMENDS "sqlite3, ca-certificates, openssl")
set(CPACK_DEBIAN_RELAY_PACKAGE_SUGGESTS "prometheus, chromium")
set(CPACK_COMPONENT_RELAY_DESCRIPTION
    "班班通 county relay: bbt-relay, bbtctl and the player/dashboard pages\n banbantong relay: fans live lessons out to rural classrooms over WebSockets, adapting\n quality per viewer; runs the county timetable, tokens, metrics and attendance.\n Includes bbtctl, the operators' command line, and the web player and dashboard.")
set(CPACK_DEBIAN_RELAY_PACKAGE_CONTROL_EXTRA
    ${BBT_DEB_DIR}/relay/conffiles ${BBT_DEB_DIR}/relay/postinst ${BBT_DEB_DIR}/relay/prerm
    ${BBT_DEB_DIR}/relay/postrm)

set(CPACK_DEBIAN_NODE_PACKAGE_NAME banbantong-node)
set(CPACK_DEBIAN_NODE_PACKAGE_DEPENDS
    "adduser, gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-bad, gstreamer1.0-plugins-ugly, gstreamer1.0-libav, gstreamer1.0-alsa, gstreamer1.0-pulseaudio, gstreamer1.0-x")
set(CPACK_DEBIAN_NODE_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_COMPONENT_NODE_DESCRIPTION
    "班班通 classroom node: capture, encode and publish a lesson, or play it\n bbt-node captures the camera, microphone and screen of a classroom with GStreamer,\n encodes a simulcast H.264 ladder and Opus, and publishes it to a banbantong relay;\n its play role shows a lesson full screen on a classroom projector.")
set(CPACK_DEBIAN_NODE_PACKAGE_CONTROL_EXTRA
    ${BBT_DEB_DIR}/node/conffiles ${BBT_DEB_DIR}/node/postinst ${BBT_DEB_DIR}/node/prerm
    ${BBT_DEB_DIR}/node/postrm)

include(CPack)
