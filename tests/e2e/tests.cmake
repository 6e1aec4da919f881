# The player page (relay/web/) under test: JavaScript unit tests in plain node, and the browser
# test — headless Chromium (playwright-core, no browser download) against a real bbt-relay and a
# real bbt-node. deploy/setup.sh installs chromium and runs `npm ci` in tests/e2e.
find_program(BBT_NODEJS NAMES node nodejs)
if(NOT BBT_NODEJS)
  message(STATUS "node not found: the player tests (e2e/*) are not registered")
  return()
endif()

foreach(unit frame pages plan worklet audiocopy ws)
  add_test(NAME e2e/${unit} COMMAND ${BBT_NODEJS} ${CMAKE_CURRENT_LIST_DIR}/${unit}.test.mjs)
  set_tests_properties(e2e/${unit} PROPERTIES LABELS "unit" TIMEOUT 60)
endforeach()

# About a minute; heavy (720p software decoding, a live x264 ladder): never beside other tests.
add_test(NAME e2e/player COMMAND ${BBT_NODEJS} ${CMAKE_CURRENT_LIST_DIR}/player.test.mjs)
set_tests_properties(e2e/player PROPERTIES
  LABELS "browser" TIMEOUT 300 RUN_SERIAL TRUE
  ENVIRONMENT "BBT_RELAY_BIN=$<TARGET_FILE:bbt-relay>;BBT_NODE_BIN=$<TARGET_FILE:bbt-node>;BBT_E2E_ARTIFACTS=${CMAKE_BINARY_DIR}/e2e")

# The player follows its classroom's timetable (driven clock, a node that follows its plan):
# about 40 s.
add_test(NAME e2e/timetable COMMAND ${BBT_NODEJS} ${CMAKE_CURRENT_LIST_DIR}/timetable.test.mjs)
set_tests_properties(e2e/timetable PROPERTIES
  LABELS "browser" TIMEOUT 240 RUN_SERIAL TRUE
  ENVIRONMENT "BBT_RELAY_BIN=$<TARGET_FILE:bbt-relay>;BBT_NODE_BIN=$<TARGET_FILE:bbt-node>;BBT_E2E_ARTIFACTS=${CMAKE_BINARY_DIR}/e2e")

# The county dashboard (/admin): a live lesson, a failed one, lights, the English switch, a
# screenshot, /metrics (about 30 s).
add_test(NAME e2e/admin COMMAND ${BBT_NODEJS} ${CMAKE_CURRENT_LIST_DIR}/admin.test.mjs)
set_tests_properties(e2e/admin PROPERTIES
  LABELS "browser" TIMEOUT 240 RUN_SERIAL TRUE
  ENVIRONMENT "BBT_RELAY_BIN=$<TARGET_FILE:bbt-relay>;BBT_NODE_BIN=$<TARGET_FILE:bbt-node>;BBT_CTL_BIN=$<TARGET_FILE:bbtctl>;BBT_E2E_ARTIFACTS=${CMAKE_BINARY_DIR}/e2e")

# The player on a poor link: Chromium in a network namespace behind tc tbf; the relay's own
# adaptation moves it to audio only and back (about 40 s). Root only (exit 77: skipped).
add_test(NAME e2e/poornet COMMAND ${BBT_NODEJS} ${CMAKE_CURRENT_LIST_DIR}/poornet.test.mjs)
set_tests_properties(e2e/poornet PROPERTIES
  LABELS "browser" TIMEOUT 420 RUN_SERIAL TRUE SKIP_RETURN_CODE 77
  ENVIRONMENT "BBT_RELAY_BIN=$<TARGET_FILE:bbt-relay>;BBT_NODE_BIN=$<TARGET_FILE:bbt-node>;BBT_E2E_ARTIFACTS=${CMAKE_BINARY_DIR}/e2e")
