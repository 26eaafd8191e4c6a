// flock(2) for the directory locks (src/util/lock.ts): the kernel releases
// the lock when the last fd of the open file description closes, so also
// when the agent dies by SIGKILL.
#pragma once
#include <napi.h>

namespace nrdot {

// flock(fd): try LOCK_EX | LOCK_NB once (EINTR retried). Returns 0 when the
// lock is held, else the errno (EWOULDBLOCK: another open file holds it).
Napi::Value Flock(const Napi::CallbackInfo& info);

}  // namespace nrdot
