# Checks the LibTorch that find_package(Torch) found and describes it:
#   FINFUSE_TORCH_VERSION   its version (MAJOR.MINOR.PATCH)
#   FINFUSE_TORCH_CUDA      ON when it was built with CUDA (then its CUDA code paths are compiled in finfuse too)
# A LibTorch older than FINFUSE_TORCH_MINIMUM_VERSION, or CMake files whose libraries come from another installation,
# stop the configuration with the version and the paths found and how to point the build at another LibTorch.

set(_finfuse_torch_hint
    "Point the build at another LibTorch with -DCMAKE_PREFIX_PATH=<root>: the unpacked official zip's libtorch/ "
    "folder, the `torch` wheel's site-packages/torch folder (scripts/install-deps.sh --torch2 installs one in "
    "~/.local/share/finfuse/torch-venv), or /usr for Debian's libtorch-dev.")

set(FINFUSE_TORCH_VERSION "${Torch_VERSION}")
if(NOT FINFUSE_TORCH_VERSION)
  message(FATAL_ERROR "finfuse: the LibTorch in ${Torch_DIR} does not state its version (TorchConfigVersion.cmake). "
                      ${_finfuse_torch_hint})
endif()
if(FINFUSE_TORCH_VERSION VERSION_LESS FINFUSE_TORCH_MINIMUM_VERSION)
  message(FATAL_ERROR "finfuse: needs LibTorch ${FINFUSE_TORCH_MINIMUM_VERSION} or newer, found ${FINFUSE_TORCH_VERSION} "
                      "in ${Torch_DIR}. " ${_finfuse_torch_hint})
endif()

# TorchConfig.cmake looks for libtorch.so in the system's folders before its own: with Debian's libtorch-dev installed
# and CMAKE_PREFIX_PATH naming a wheel's share/cmake folder, it would mix the wheel's headers with Debian's library.
get_filename_component(_finfuse_torch_root "${TORCH_INSTALL_PREFIX}" REALPATH)
get_filename_component(_finfuse_torch_library "${TORCH_LIBRARY}" REALPATH)
string(FIND "${_finfuse_torch_library}" "${_finfuse_torch_root}/" _finfuse_torch_inside)
if(NOT _finfuse_torch_inside EQUAL 0)
  message(FATAL_ERROR "finfuse: the LibTorch ${FINFUSE_TORCH_VERSION} CMake files in ${Torch_DIR} found another "
                      "installation's library (${TORCH_LIBRARY}). Put the LibTorch root ${TORCH_INSTALL_PREFIX} "
                      "itself on CMAKE_PREFIX_PATH (not its share/cmake folder) and configure a fresh build folder. "
                      ${_finfuse_torch_hint})
endif()

if(CAFFE2_USE_CUDA)
  set(FINFUSE_TORCH_CUDA ON)
  set(_finfuse_torch_flavour "CUDA ${CUDA_VERSION}")
else()
  set(FINFUSE_TORCH_CUDA OFF)
  set(_finfuse_torch_flavour "CPU only")
endif()
message(STATUS "finfuse: LibTorch ${FINFUSE_TORCH_VERSION} (${_finfuse_torch_flavour}) from ${TORCH_INSTALL_PREFIX}")
