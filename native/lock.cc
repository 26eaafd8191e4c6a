// See lock.h. Synchronous on purpose: LOCK_NB never waits.
#include "lock.h"

#include <sys/file.h>

#include <cerrno>

namespace nrdot {

Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "flock(fd): fd (number) required").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int fd = info[0].As<Napi::Number>().Int32Value();
  int r;
  do {
    r = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  return Napi::Number::New(env, r == 0 ? 0 : errno);
}

}  // namespace nrdot
