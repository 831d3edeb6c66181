# Finds Apache Arrow C++ with Parquet for finfuse's Parquet readers and defines the imported targets
# finfuse_arrow::arrow and finfuse_arrow::parquet (shared libraries, headers as system headers).
#
# Looked for, in order: an Arrow installation with CMake packages (Arrow's apt repository, conda, a source build:
# find_package(Parquet CONFIG)), then a folder laid out as the `pyarrow` wheel ships Arrow's C++ distribution
# (include/arrow, include/parquet and libarrow.so.*, libparquet.so.* next to them; scripts/install-arrow.sh) or as a
# plain prefix (include/ and lib/): FINFUSE_ARROW_ROOT first, then every CMAKE_PREFIX_PATH entry.
#
# Sets FinfuseArrow_FOUND, FinfuseArrow_VERSION, FinfuseArrow_ROOT (the wheel-style folder used, if any) and
# FinfuseArrow_REASON (why it was not found). Arrow 23 and later require C++20; finfuse builds as C++17 and so takes
# Arrow up to 22.
set(FinfuseArrow_FOUND FALSE)
set(FinfuseArrow_REASON "")
if(TARGET finfuse_arrow::parquet)
  set(FinfuseArrow_FOUND TRUE)
  return()
endif()

function(_finfuse_arrow_version header out)
  file(STRINGS "${header}" _lines REGEX "^#define ARROW_VERSION_STRING")
  string(REGEX REPLACE ".*\"([0-9.]+)[^\"]*\".*" "\\1" _version "${_lines}")
  set(${out} "${_version}" PARENT_SCOPE)
endfunction()

set(_finfuse_arrow_roots ${FINFUSE_ARROW_ROOT} $ENV{FINFUSE_ARROW_ROOT} ${CMAKE_PREFIX_PATH})
set(_finfuse_arrow_found_root "")
foreach(_root IN LISTS _finfuse_arrow_roots)
  if(NOT _root OR NOT EXISTS "${_root}/include/arrow/util/config.h" OR NOT EXISTS "${_root}/include/parquet/arrow/reader.h")
    continue()
  endif()
  set(_arrow_libs "")
  set(_parquet_libs "")
  foreach(_dir "${_root}" "${_root}/lib" "${_root}/lib64")
    file(GLOB _a "${_dir}/libarrow.so*")
    file(GLOB _p "${_dir}/libparquet.so*")
    list(APPEND _arrow_libs ${_a})
    list(APPEND _parquet_libs ${_p})
  endforeach()
  if(_arrow_libs AND _parquet_libs)
    # The shortest name: libarrow.so where there is one, else the versioned libarrow.so.2200.
    list(SORT _arrow_libs)
    list(SORT _parquet_libs)
    list(GET _arrow_libs 0 _arrow_lib)
    list(GET _parquet_libs 0 _parquet_lib)
    set(_finfuse_arrow_found_root "${_root}")
    break()
  endif()
endforeach()

if(_finfuse_arrow_found_root)
  _finfuse_arrow_version("${_finfuse_arrow_found_root}/include/arrow/util/config.h" FinfuseArrow_VERSION)
  set(_include "${_finfuse_arrow_found_root}/include")
elseif(NOT FINFUSE_ARROW_ROOT)
  find_package(Parquet CONFIG QUIET)
  if(Parquet_FOUND AND TARGET Parquet::parquet_shared AND TARGET Arrow::arrow_shared)
    get_target_property(_include Arrow::arrow_shared INTERFACE_INCLUDE_DIRECTORIES)
    set(FinfuseArrow_VERSION "${Arrow_VERSION}")
  endif()
endif()

if(NOT FinfuseArrow_VERSION)
  set(FinfuseArrow_REASON "no Arrow C++ with Parquet found (FINFUSE_ARROW_ROOT, CMAKE_PREFIX_PATH, find_package(Parquet))")
  return()
endif()
string(REGEX MATCH "^[0-9]+" _major "${FinfuseArrow_VERSION}")
if(_major GREATER 22)
  set(FinfuseArrow_REASON
      "Arrow ${FinfuseArrow_VERSION} needs C++20 and finfuse builds as C++17: use Arrow 22 or older (scripts/install-arrow.sh)")
  set(FinfuseArrow_VERSION "")
  return()
endif()

if(_finfuse_arrow_found_root)
  add_library(finfuse_arrow::arrow SHARED IMPORTED GLOBAL)
  set_target_properties(finfuse_arrow::arrow PROPERTIES
    IMPORTED_LOCATION "${_arrow_lib}" IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${_include}")
  add_library(finfuse_arrow::parquet SHARED IMPORTED GLOBAL)
  set_target_properties(finfuse_arrow::parquet PROPERTIES
    IMPORTED_LOCATION "${_parquet_lib}"
    INTERFACE_LINK_LIBRARIES finfuse_arrow::arrow)
  set(FinfuseArrow_ROOT "${_finfuse_arrow_found_root}")
else()
  add_library(finfuse_arrow::arrow INTERFACE IMPORTED GLOBAL)
  set_target_properties(finfuse_arrow::arrow PROPERTIES INTERFACE_LINK_LIBRARIES Arrow::arrow_shared)
  add_library(finfuse_arrow::parquet INTERFACE IMPORTED GLOBAL)
  set_target_properties(finfuse_arrow::parquet PROPERTIES INTERFACE_LINK_LIBRARIES Parquet::parquet_shared)
endif()
set(FinfuseArrow_FOUND TRUE)
