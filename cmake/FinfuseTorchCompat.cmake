# What building against a LibTorch 2.x distribution (the official zip, the `torch` wheel) needs beyond find_package(Torch);
# used by finfuse's own build and by its installed package configuration alike.

# LibTorch 2.x distributions (the official zip, the `torch` wheel) carry a copy of fmt's headers in their include
# folder, newer than the fmt and spdlog that finfuse is linked with; since LibTorch's include folder comes first on the
# compiler's search path, <fmt/...> would name LibTorch's copy, which the installed spdlog does not compile with and
# whose symbols the installed libfmt does not define. finfuse_fmt_first(<target> <folder>) puts a folder holding only
# a link to the installed fmt headers in front of LibTorch's, in <target>'s interface, so that finfuse and every target
# that links it see one fmt. Nothing is done for a LibTorch without its own fmt (Debian's libtorch-dev).
function(finfuse_fmt_first target folder)
  if(NOT TORCH_INSTALL_PREFIX OR NOT EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt")
    return()
  endif()
  set(_fmt_include "")
  foreach(_candidate fmt::fmt fmt::fmt-header-only)
    if(TARGET ${_candidate})
      get_target_property(_dirs ${_candidate} INTERFACE_INCLUDE_DIRECTORIES)
      foreach(_dir IN LISTS _dirs)
        if(EXISTS "${_dir}/fmt/core.h")
          set(_fmt_include "${_dir}")
          break()
        endif()
      endforeach()
    endif()
    if(_fmt_include)
      break()
    endif()
  endforeach()
  if(NOT _fmt_include)
    message(FATAL_ERROR "finfuse: LibTorch in ${TORCH_INSTALL_PREFIX} has its own fmt headers, and the fmt package's "
                        "headers were not found to put in front of them")
  endif()
  file(MAKE_DIRECTORY "${folder}")
  if(NOT EXISTS "${folder}/fmt")
    file(CREATE_LINK "${_fmt_include}/fmt" "${folder}/fmt" SYMBOLIC)
  endif()
  get_target_property(_imported ${target} IMPORTED)
  if(_imported)
    set_property(TARGET ${target} APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${folder}")
  else()
    target_include_directories(${target} SYSTEM BEFORE PUBLIC "$<BUILD_INTERFACE:${folder}>")
  endif()
endfunction()

# The torch wheel's libtorch_cuda.so finds the CUDA libraries it was built with (NCCL, cuDNN, cuBLAS ...) in the
# wheel's nvidia/*/lib folders at run time (its RPATH), but at link time the linker looks in the folders that
# LibTorch's CMake files add to every executable's rpath first (the local CUDA toolkit's), where an older NCCL lacks
# symbols it needs. finfuse_torch_wheel_libraries() puts the wheel's folders first for the linker (-rpath-link) on the
# `torch` target, so every executable linking it resolves LibTorch's dependencies as they are resolved at run time.
function(finfuse_torch_wheel_libraries)
  if(NOT TARGET torch OR NOT TORCH_INSTALL_PREFIX)
    return()
  endif()
  file(GLOB _folders LIST_DIRECTORIES true "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
  set(_options "")
  foreach(_folder IN LISTS _folders)
    if(IS_DIRECTORY "${_folder}")
      get_filename_component(_folder "${_folder}" REALPATH)
      list(APPEND _options "LINKER:-rpath-link,${_folder}")
    endif()
  endforeach()
  if(_options)
    set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_OPTIONS ${_options})
  endif()
endfunction()
