# The timetable (relay/schedule) and bbtctl (relay/ctl), included from tests/CMakeLists.txt
# (paths relative to tests/).
bbt_unit_test(relay/schedule/test_recur.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_conflict.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_csv.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_store.c LIBS bbtsched)
bbt_unit_test(relay/schedule/test_sched.c LIBS bbtsched)
bbt_integration_test(relay/schedule/test_e2e.c LIBS bbtproto)
