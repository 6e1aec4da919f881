# Operations (label package): the relay's first start, the Debian packages, the example alert
# rules, the operator guide's walk-through. docs/TESTING.md "Operations".
bbt_unit_test(relay/test_firstrun.c LIBS bbtrelaycore bbtconfig PkgConfig::OPENSSL)
target_sources(test_relay_firstrun PRIVATE ${CMAKE_SOURCE_DIR}/relay/firstrun.c)

# deploy/prometheus/banbantong-alerts.yml: a Prometheus rule file naming documented metrics only.
add_test(NAME ops/alerts COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ops/alerts.py
         ${CMAKE_SOURCE_DIR})
set_tests_properties(ops/alerts PROPERTIES LABELS "package" TIMEOUT 60)

# The packages are made from the normal build (a sanitizer build is never packaged): the shell
# tests are registered only there. They need root and skip (77) without it.
if(NOT BBT_SANITIZE)
  add_test(NAME ops/package COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/package.sh
           ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(ops/package PROPERTIES LABELS "package;integration" TIMEOUT 300
                       SKIP_RETURN_CODE 77 RESOURCE_LOCK bbt_ops_root)
  add_test(NAME ops/walkthrough COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/ops/walkthrough.sh
           ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
  set_tests_properties(ops/walkthrough PROPERTIES LABELS "package;integration" TIMEOUT 300
                       SKIP_RETURN_CODE 77 RESOURCE_LOCK bbt_ops_root)
endif()
