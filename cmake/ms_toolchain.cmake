# Compiler flags shared by every target of the project: warnings are errors in every preset.

find_program(MS_CCACHE ccache)
if(MS_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${MS_CCACHE}")
endif()

add_library(ms_warnings INTERFACE)
target_compile_options(ms_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror
  -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wmissing-declarations -Wundef)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(ms_warnings INTERFACE -Wduplicated-cond -Wlogical-op)
  # GCC 12 misreports the custom operator new/delete of Boost.Asio coroutine frames
  # (awaitable_frame_base) as mismatched; clang and GCC 13 do not.
  target_compile_options(ms_warnings INTERFACE -Wno-mismatched-new-delete)
endif()

if(MS_SANITIZE)
  list(JOIN MS_SANITIZE "," _ms_sanitizers)
  add_compile_options(-fsanitize=${_ms_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_ms_sanitizers})
  if(MS_SANITIZE STREQUAL "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Boost.Asio's scheduler uses std::atomic_thread_fence, which TSan does not model; GCC 12
    # warns about every use (-Wtsan). The fences sit next to mutex/condition-variable hand-offs
    # that TSan does see, so the warning says nothing about our code.
    add_compile_options(-Wno-tsan)
  endif()
endif()

if(MS_COVERAGE)
  add_compile_options(--coverage -O0 -fno-inline)
  add_link_options(--coverage)
endif()
