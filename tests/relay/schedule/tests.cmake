# The timetable (relay/schedule) and bbtctl (relay/ctl), included from tests/CMakeLists.txt
# (paths relative to tests/).
bbt_unit_test(relay/schedule/test_recur.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_conflict.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_groups.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_jobs.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_worker.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_csv.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_store.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_sched.c LIBS bbtsched)
bbt_integration_test(relay/schedule/test_e2e.c LIBS bbtproto)
# bbtctl against the real relay (the bbtctl binary is appended to the environment).
bbt_integration_test(relay/ctl/test_bbtctl.c LIBS bbtproto)
target_compile_definitions(test_relay_ctl_bbtctl PRIVATE BBT_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
add_dependencies(test_relay_ctl_bbtctl bbtctl)
set_property(TEST relay/ctl/bbtctl APPEND PROPERTY ENVIRONMENT "BBT_CTL_BIN=$<TARGET_FILE:bbtctl>")
# bbt-schedbench: the timetable at county size (docs/PERFORMANCE.md, "Scheduling"). A program,
# not a test: run it by hand.
add_executable(bbt-schedbench ${CMAKE_CURRENT_SOURCE_DIR}/relay/schedule/bench_schedule.c)
target_link_libraries(bbt-schedbench PRIVATE bbtsched)
# The fast-clock lesson runs a school day at 60× speed against real sockets: too tight for the
# sanitizer build on two cores (deploy/test.sh leaves `realtime` out there).
set_property(TEST relay/schedule/e2e APPEND PROPERTY LABELS realtime)
