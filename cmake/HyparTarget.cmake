# hypar_configure(<target>): warnings and sanitizer flags, PRIVATE to each target so they apply
# to the target itself (libcoro's lesson) and never leak to users of the library.
function(hypar_configure target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 reports false maybe-uninitialized positives inside std::variant copies at -O2.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
  if(HYPAR_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(HYPAR_ASAN)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(HYPAR_TSAN)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # Asio uses std::atomic_thread_fence, which GCC warns TSan does not model (-Wtsan). The
      # fences only add ordering on top of the locked handler queues that TSan does see.
      target_compile_options(${target} PRIVATE -Wno-tsan)
    endif()
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()
