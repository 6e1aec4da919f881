# libev: an epoll event loop for libwebsockets (LWS_SERVER_OPTION_LIBEV with a foreign loop).
# lws's own loop calls poll() on every descriptor at every wake-up, so its cost per event grows
# with the number of connections (docs/PERFORMANCE.md, "Fan-out"). libev ships no pkg-config
# file; Debian: libev-dev, and libwebsockets-evlib-ev for the lws plugin that drives it.
#   bbt_use_libev(TARGET DEFINE)  ->  TARGET links libev and is compiled with -DDEFINE, when found
find_path(BBT_EV_INCLUDE ev.h)
find_library(BBT_EV_LIB ev)
function(bbt_use_libev target define)
  if(BBT_EV_INCLUDE AND BBT_EV_LIB)
    target_compile_definitions(${target} PRIVATE ${define})
    target_include_directories(${target} SYSTEM PRIVATE ${BBT_EV_INCLUDE})
    target_link_libraries(${target} PRIVATE ${BBT_EV_LIB})
  else()
    message(STATUS "libev not found: ${target} uses lws's poll() loop")
  endif()
endfunction()
