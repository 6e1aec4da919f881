# Fault tests (label `fault`, also `integration`), included from tests/CMakeLists.txt: the real
# bbt-relay (and bbt-node) under kill -9, a network cut, hostile and broken clients
# (docs/SECURITY.md, "Fault tests"). Serial: they hold hundreds of sockets, fixed timings.
function(bbt_fault_test name)
  cmake_parse_arguments(F "" "" "LIBS;LABELS" ${ARGN})
  bbt_integration_test(fault/test_${name}.c LIBS bbtproto ${F_LIBS} LABELS fault ${F_LABELS})
  target_sources(test_fault_${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/fault/fault_util.c)
  set_tests_properties(fault/${name} PROPERTIES RUN_SERIAL TRUE TIMEOUT 240)
endfunction()

bbt_fault_test(unauth)
bbt_fault_test(bad_publisher)
bbt_fault_test(stalled_viewer)
bbt_fault_test(slowloris)
bbt_fault_test(silent_publisher)
# The real node (GStreamer test sources) beside the relay: encoding in real time, so these are
# also labelled realtime (left out of the sanitizer run, as node/node is).
bbt_fault_test(relay_kill LIBS PkgConfig::SQLITE LABELS realtime)
target_sources(test_fault_relay_kill PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/node_proc.c)
add_dependencies(test_fault_relay_kill bbt-node)
set_property(TEST fault/relay_kill APPEND PROPERTY ENVIRONMENT "BBT_NODE_BIN=$<TARGET_FILE:bbt-node>")
bbt_fault_test(netcut LABELS realtime)
target_sources(test_fault_netcut PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/node_proc.c)
add_dependencies(test_fault_netcut bbt-node)
set_tests_properties(fault/netcut PROPERTIES SKIP_RETURN_CODE 77)
set_property(TEST fault/netcut APPEND PROPERTY ENVIRONMENT "BBT_NODE_BIN=$<TARGET_FILE:bbt-node>")
