# Adds bench/ to the top-level project without editing its CMakeLists.txt:
#   cmake -S . -B build-bench -DCMAKE_PROJECT_INCLUDE=$PWD/bench/micro/project_include.cmake
# (CMake includes this file at the end of the top-level project() call.)
add_subdirectory(${CMAKE_CURRENT_LIST_DIR}/.. ${CMAKE_BINARY_DIR}/bench)
