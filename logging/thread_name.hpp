// Names a thread, as `top -H`, `ps -L`, perf and gdb show it (Linux keeps
// at most 15 characters; longer names are cut). Named by its creator right
// after it starts, so the name is there before anyone can look.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>
#include <thread>

namespace logging {

inline void name_thread(std::thread& t, std::string_view name) {
  const std::string n(name.substr(0, 15));
  (void)pthread_setname_np(t.native_handle(), n.c_str());
}

}  // namespace logging
