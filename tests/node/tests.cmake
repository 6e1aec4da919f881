# bbt-node tests, included from tests/CMakeLists.txt (paths relative to tests/).
bbt_unit_test(node/test_h264.c LIBS bbtnode)
bbt_unit_test(node/test_txq.c LIBS bbtnode)
# The GStreamer pipeline itself, from a configuration with test sources (a few seconds).
bbt_unit_test(node/test_pipeline.c LIBS bbtnode)
target_sources(test_node_pipeline PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/h264dec.c)
# The real bbt-node against the real bbt-relay (bbt_integration_test's ENVIRONMENT names the
# relay; the node binary is appended here).
bbt_integration_test(node/test_node.c LIBS bbtproto PkgConfig::GST)
target_sources(test_node_node PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/h264dec.c
               ${CMAKE_SOURCE_DIR}/tests/support/node_proc.c)
add_dependencies(test_node_node bbt-node)
set_property(TEST node/node APPEND PROPERTY ENVIRONMENT "BBT_NODE_BIN=$<TARGET_FILE:bbt-node>")
# Following the timetable (node/plan.c): the cached plan, and the real node against the real
# relay's timetable, with and without the relay.
bbt_unit_test(node/test_plan.c LIBS bbtnode)
bbt_integration_test(node/test_follow.c LIBS bbtproto)
target_sources(test_node_follow PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/node_proc.c)
add_dependencies(test_node_follow bbt-node)
set_property(TEST node/follow APPEND PROPERTY ENVIRONMENT "BBT_NODE_BIN=$<TARGET_FILE:bbt-node>")
# These encode and decode video in real time and check timing (frame counts, capture times):
# never alongside another test, so a parallel ctest run cannot starve them.
set_tests_properties(node/pipeline node/node node/follow PROPERTIES RUN_SERIAL TRUE)
# ... and they are left out of the sanitizer run (deploy/test.sh: -LE realtime), where the
# instrumented build cannot encode and decode in real time on two cores. Their code paths that
# do not depend on time are covered under the sanitizers by node/h264, node/txq and node/plan.
set_property(TEST node/pipeline node/node node/follow APPEND PROPERTY LABELS realtime)
