# Compiler settings shared by every target that finfuse itself builds.

set(CMAKE_CXX_EXTENSIONS OFF)

if(FINFUSE_USE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(FINFUSE_CCACHE_PROGRAM ccache)
  if(FINFUSE_CCACHE_PROGRAM)
    # Precompiled headers are only cacheable with these sloppiness settings; the base directory makes paths
    # relative, so a fresh checkout elsewhere (CI's clean clone) hits the cache too.
    set(CMAKE_CXX_COMPILER_LAUNCHER
        "${CMAKE_COMMAND}" -E env
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}"
        "${FINFUSE_CCACHE_PROGRAM}")
    message(STATUS "finfuse: compiling through ccache (${FINFUSE_CCACHE_PROGRAM})")
  endif()
endif()

# Warnings for finfuse's own code; third-party headers come in as system headers.
function(finfuse_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra)
    # GCC 12 in C++20 mode (LibTorch 2.x's headers require C++20) warns that std::string's inlined copies, as in
    # "q" + std::to_string(i), exceed the maximum object size: a false positive of its constexpr basic_string (GCC bugs
    # 105651, 106199), fixed in GCC 13.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13 AND
       FINFUSE_TORCH_VERSION VERSION_GREATER_EQUAL 2)
      target_compile_options(${target} PRIVATE -Wno-stringop-overflow)
    endif()
    if(FINFUSE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4)
    if(FINFUSE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE /WX)
    endif()
  endif()
endfunction()

# Targets that include LibTorch share the library's precompiled header when their flags match.
function(finfuse_reuse_pch target)
  if(FINFUSE_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM finfuse_pch)
  endif()
endfunction()
