# Test helpers. One cmocka program per source file, in a tree that mirrors the sources:
#   bbt_unit_test(proto/test_frame.c LIBS bbtproto)  ->  executable test_proto_frame, CTest "proto/frame"
#   FAILALLOC: link tests/support/failalloc.c and wrap malloc/calloc/realloc/strdup (see there).
function(bbt_unit_test src)
  cmake_parse_arguments(T "FAILALLOC" "" "LIBS;LABELS" ${ARGN})
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(base ${src} NAME_WE)
  string(REGEX REPLACE "^test_" "" unit ${base})
  string(REPLACE "/" "_" dirname "${dir}")
  set(exe test_${dirname}_${unit})
  add_executable(${exe} ${CMAKE_CURRENT_SOURCE_DIR}/${src})
  target_link_libraries(${exe} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  target_include_directories(${exe} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  if(T_FAILALLOC)
    target_sources(${exe} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/failalloc.c)
    target_link_options(${exe} PRIVATE
      -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup)
  endif()
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME ${dir}/${unit} COMMAND ${exe})
  set_tests_properties(${dir}/${unit} PROPERTIES LABELS "unit;${T_LABELS}" TIMEOUT 120)
endfunction()

# A fuzz harness tests/fuzz/fuzz_NAME.c (defining LLVMFuzzerTestOneInput) with its seed corpus in
# tests/fuzz/corpus/NAME/. The ordinary build links it to a replay driver and CTest replays the
# corpus; with BBT_FUZZ=ON (clang) it is also built as a libFuzzer binary fuzz_NAME.
function(bbt_fuzz_harness name)
  cmake_parse_arguments(F "" "" "LIBS" ${ARGN})
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_${name}.c)
  add_executable(replay_${name} ${src} ${CMAKE_CURRENT_SOURCE_DIR}/replay_main.c)
  target_link_libraries(replay_${name} PRIVATE ${F_LIBS})
  set_target_properties(replay_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME fuzz/${name}/replay
           COMMAND replay_${name} ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
  set_tests_properties(fuzz/${name}/replay PROPERTIES LABELS "fuzz" TIMEOUT 300)
  if(BBT_FUZZ)
    add_executable(fuzz_${name} ${src})
    target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  endif()
endfunction()

# An integration test: a cmocka program that runs the real programs (bbt-relay, ...) and talks to
# them over loopback with the lws test client in tests/support/.
function(bbt_integration_test src)
  cmake_parse_arguments(T "" "" "LIBS;LABELS" ${ARGN})
  bbt_unit_test(${src} LIBS ${T_LIBS} LABELS integration ${T_LABELS})
  get_filename_component(dir ${src} DIRECTORY)
  get_filename_component(base ${src} NAME_WE)
  string(REGEX REPLACE "^test_" "" unit ${base})
  string(REPLACE "/" "_" dirname "${dir}")
  target_sources(test_${dirname}_${unit} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/wsclient.c
                 ${CMAKE_SOURCE_DIR}/tests/support/relay_proc.c
                 ${CMAKE_SOURCE_DIR}/tests/support/tokens.c)
  target_link_libraries(test_${dirname}_${unit} PRIVATE bbtproto PkgConfig::LWS PkgConfig::JANSSON)
  add_dependencies(test_${dirname}_${unit} bbt-relay)
  set_tests_properties(${dir}/${unit} PROPERTIES
    LABELS "integration;${T_LABELS}" TIMEOUT 300
    ENVIRONMENT "BBT_RELAY_BIN=$<TARGET_FILE:bbt-relay>")
endfunction()
