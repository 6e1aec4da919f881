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
