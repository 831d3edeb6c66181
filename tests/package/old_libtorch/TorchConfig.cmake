# A stand-in for LibTorch 1.12's package files: finfuse's configuration must refuse it by its version before it uses
# anything else (tests/package/CMakeLists.txt, package.old_libtorch_refused).
get_filename_component(TORCH_INSTALL_PREFIX "${CMAKE_CURRENT_LIST_DIR}" ABSOLUTE)
set(TORCH_LIBRARY "${TORCH_INSTALL_PREFIX}/lib/libtorch.so")
set(TORCH_LIBRARIES "${TORCH_LIBRARY}")
set(TORCH_FOUND TRUE)
